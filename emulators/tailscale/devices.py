"""Deterministic fake Tailscale devices in the API's JSON shape, and loading them from files."""

from __future__ import annotations

import json
import random
import re
import string
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from emulators.tailscale.timefmt import format_rfc3339

# Returned only with `?fields=all`; everything else is in the default field set.
ALL_ONLY_FIELDS = frozenset({"advertisedRoutes", "enabledRoutes", "clientConnectivity"})

# Fixed so that the same seed yields byte-identical inventories on any day.
DEFAULT_ANCHOR = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
# Go's zero time: what the API shows as `expires` when key expiry is disabled.
_NEVER = "0001-01-01T00:00:00Z"
MAX_DEVICES = 50_000
_TAGGED_SHARE = 0.2
_CGNAT_SIZE = 1 << 22  # 100.64.0.0/10
_ALNUM = string.ascii_letters + string.digits
_VERSIONS = ("1.72.1", "1.74.1", "1.76.6", "1.78.1", "1.80.2", "1.80.3", "1.82.0", "1.82.5")
_OWNED_OS = ("macOS", "windows", "linux", "iOS", "android")
_OWNED_OS_CUM_WEIGHTS = (35, 60, 75, 90, 100)
_TAGGED_OS = ("linux", "windows", "macOS")
_TAGGED_OS_CUM_WEIGHTS = (90, 95, 100)
_ROLES = ("web", "api", "db", "cache", "worker", "bastion", "k8s-node", "runner", "monitor")
_ENVS = ("prod", "staging", "dev")
_EXIT_ROUTES = ["0.0.0.0/0", "::/0"]


def generate_devices(
    n: int,
    seed: int = 0,
    owners: list[str] | None = None,
    *,
    now: datetime = DEFAULT_ANCHOR,
) -> list[dict[str, Any]]:
    """Make `n` devices; about 20% tagged servers, the rest personal devices of `owners`."""
    if not 0 <= n <= MAX_DEVICES:
        raise ValueError(f"n must be between 0 and {MAX_DEVICES}")
    rng = random.Random(seed)
    people = owners or [f"user{k}@example.com" for k in range(1, max(2, min(n // 4, 5000)) + 1)]
    # Tagged devices are owned by whoever tagged them: one of a handful of admins.
    admins = people[: min(5, len(people))]
    dns_suffix = f"tail{rng.randrange(16**4):04x}.ts.net"
    ipv4 = rng.sample(range(1, _CGNAT_SIZE), n)
    ipv6 = rng.sample(range(1, 1 << 32), n)
    legacy = rng.sample(range(10**15, 10**18), n)
    names = _NameAllocator(dns_suffix)
    node_ids: set[str] = set()
    devices = []
    for i in range(n):
        tagged = rng.random() < _TAGGED_SHARE
        device = _tagged_device(rng, admins) if tagged else _owned_device(rng, people)
        node_id = _node_id(rng, node_ids)
        hostname = device.pop("hostname")
        addresses = [_ipv4(ipv4[i]), _ipv6(ipv6[i])]
        ids = (node_id, str(legacy[i]))
        name = names.name_for(hostname)
        devices.append(
            _assemble(rng, device, now=now, ids=ids, names=(name, hostname), ips=addresses)
        )
    return devices


def load_devices(path: str | Path) -> list[dict[str, Any]]:
    """Read devices from JSON: either `{"devices": [...]}` or a bare list."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    items = data.get("devices") if isinstance(data, dict) else data
    if not isinstance(items, list):
        raise DeviceFileError(f"{path}: expected a list of devices or {{'devices': [...]}}")
    for index, item in enumerate(items):
        if not isinstance(item, dict):
            raise DeviceFileError(f"{path}: device #{index} is not an object")
        for field in ("id", "nodeId"):
            if not isinstance(item.get(field), str) or not item[field]:
                raise DeviceFileError(f"{path}: device #{index} lacks a string {field!r}")
    return items


def _ipv4(offset: int) -> str:
    value = (100 << 24) + (64 << 16) + offset
    return f"{value >> 24}.{(value >> 16) & 255}.{(value >> 8) & 255}.{value & 255}"


def _ipv6(low32: int) -> str:
    # fd7a:115c:a1e0::/48 with only the last 32 bits set, in RFC 5952 compressed form.
    high, low = low32 >> 16, low32 & 0xFFFF
    return f"fd7a:115c:a1e0::{high:x}:{low:x}" if high else f"fd7a:115c:a1e0::{low:x}"


class DeviceFileError(ValueError):
    """A devices file that is not a list of devices with string ids."""


class _NameAllocator:
    """MagicDNS names are unique per tailnet: later duplicates get `-1`, `-2`, ..."""

    def __init__(self, suffix: str) -> None:
        self._suffix = suffix
        self._used: dict[str, int] = {}

    def name_for(self, hostname: str) -> str:
        base = re.sub(r"[^a-z0-9-]+", "-", hostname.lower()).strip("-") or "device"
        count = self._used.get(base, 0)
        self._used[base] = count + 1
        label = base if count == 0 else f"{base}-{count}"
        return f"{label}.{self._suffix}"


def _node_id(rng: random.Random, taken: set[str]) -> str:
    while True:
        candidate = "n" + "".join(rng.choices(_ALNUM, k=10)) + "CNTRL"
        if candidate not in taken:
            taken.add(candidate)
            return candidate


def _owned_device(rng: random.Random, people: list[str]) -> dict[str, Any]:
    owner = rng.choice(people)
    first = re.sub(r"[^a-z0-9]+", "", owner.split("@")[0].split(".")[0].lower()) or "user"
    os_name = rng.choices(_OWNED_OS, cum_weights=_OWNED_OS_CUM_WEIGHTS)[0]
    if os_name == "macOS":
        model = rng.choice(("macbook-pro", "macbook-air", "mac-mini", "imac"))
        hostname = f"{first}s-{model}"
    elif os_name == "windows":
        hostname = "DESKTOP-" + "".join(rng.choices(string.ascii_uppercase + string.digits, k=7))
    elif os_name == "linux":
        hostname = f"{first}-{rng.choice(('thinkpad', 'xps', 'framework', 'workstation'))}"
    elif os_name == "iOS":
        hostname = f"{first}s-{rng.choice(('iphone', 'ipad'))}"
    else:
        hostname = rng.choice(("pixel-8", "pixel-7a", "galaxy-s23", "galaxy-s24", "oneplus-12"))
    return {
        "user": owner,
        "hostname": hostname,
        "os": os_name,
        "connected": rng.random() < 0.6,
        "keyExpiryDisabled": rng.random() < 0.05,
        "routes": [],
    }


def _tagged_device(rng: random.Random, admins: list[str]) -> dict[str, Any]:
    role, env = rng.choice(_ROLES), rng.choice(_ENVS)
    os_name = rng.choices(_TAGGED_OS, cum_weights=_TAGGED_OS_CUM_WEIGHTS)[0]
    tags = sorted({f"tag:{env}", f"tag:{role}" if role != "k8s-node" else "tag:k8s"})
    if rng.random() < 0.03:
        role, tags = "exit", ["tag:exit-node"]
    return {
        "user": rng.choice(admins),
        "hostname": f"{role}-{env}-{rng.randrange(1, 100):02d}",
        "os": os_name,
        "tags": tags,
        "connected": rng.random() < 0.85,
        "keyExpiryDisabled": rng.random() < 0.9,
        "routes": list(_EXIT_ROUTES) if role == "exit" else [],
    }


def _assemble(
    rng: random.Random,
    spec: dict[str, Any],
    *,
    now: datetime,
    ids: tuple[str, str],
    names: tuple[str, str],
    ips: list[str],
) -> dict[str, Any]:
    (node_id, legacy_id), (name, hostname) = ids, names
    created = now - timedelta(seconds=rng.randrange(86_400, 700 * 86_400))
    version = rng.choice(_VERSIONS)
    client_version = f"{version}-t{rng.getrandbits(36):09x}-g{rng.getrandbits(36):09x}"
    if spec["keyExpiryDisabled"]:
        expires = _NEVER
    elif rng.random() < 0.03:  # a few keys have already expired, as in real tailnets
        expires = format_rfc3339(now - timedelta(seconds=rng.randrange(3600, 30 * 86_400)))
    else:
        expires = format_rfc3339(now + timedelta(seconds=rng.randrange(3600, 180 * 86_400)))
    device: dict[str, Any] = {
        "addresses": ips,
        "id": legacy_id,
        "nodeId": node_id,
        "user": spec["user"],
        "name": name,
        "hostname": hostname,
        "clientVersion": client_version,
        "updateAvailable": version != _VERSIONS[-1],
        "os": spec["os"],
        "created": format_rfc3339(created),
        "connectedToControl": spec["connected"],
    }
    if not spec["connected"]:
        idle = timedelta(seconds=rng.randrange(60, 30 * 86_400))
        device["lastSeen"] = format_rfc3339(max(created, now - idle))
    device |= {
        "keyExpiryDisabled": spec["keyExpiryDisabled"],
        "expires": expires,
        "authorized": rng.random() < 0.98,
        "isExternal": False,
        "machineKey": f"mkey:{rng.getrandbits(256):064x}",
        "nodeKey": f"nodekey:{rng.getrandbits(256):064x}",
        "tailnetLockKey": "",  # tailnet lock is off in the emulated tailnet
        "blocksIncomingConnections": False,
        "advertisedRoutes": spec["routes"],
        "enabledRoutes": list(spec["routes"]),
        "clientConnectivity": {
            "endpoints": [f"198.51.100.{rng.randrange(1, 255)}:41641"],
            "mappingVariesByDestIP": False,
            "latency": {},
            "clientSupports": {"hairPinning": False, "ipv6": rng.random() < 0.5, "udp": True},
        },
    }
    if "tags" in spec:
        device["tags"] = spec["tags"]
    return device
