"""Device inventory (pure): Tailscale's device JSON to DeviceSnapshot, and what to write.

The sync keeps a digest of each key's last written value, so a refresh writes
only devices that changed and deletes only devices that are gone.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from pydantic import ValidationError

from services.grants.domain.posture_attributes import parse_rfc3339
from shared.contracts.events import DeviceSnapshot

# NATS KV key rules: these characters, no leading or trailing dot.
_KV_KEY_RE = re.compile(r"^[-/_=a-zA-Z0-9]+(?:\.[-/_=a-zA-Z0-9]+)*$")


class UnusableDeviceError(ValueError):
    """A device entry grants cannot store (no nodeId, unreadable fields)."""


def _text(device: Mapping[str, Any], name: str) -> str:
    value = device.get(name)
    return value if isinstance(value, str) else ""


def _strings(device: Mapping[str, Any], name: str) -> list[str]:
    value = device.get(name)
    return [v for v in value if isinstance(v, str)] if isinstance(value, list) else []


def _flag(device: Mapping[str, Any], name: str) -> bool | None:
    value = device.get(name)
    return value if isinstance(value, bool) else None


def snapshot(device: Mapping[str, Any]) -> DeviceSnapshot:
    """Map the API's fields (nodeId, id, name, hostname, user, ...) onto a DeviceSnapshot."""
    node_id = _text(device, "nodeId")
    if not _KV_KEY_RE.match(node_id):
        raise UnusableDeviceError(f"device without a usable nodeId: {node_id!r}")
    last_seen = None
    if raw := _text(device, "lastSeen"):
        try:
            last_seen = parse_rfc3339(raw)
        except ValueError:
            last_seen = None
    try:
        return DeviceSnapshot(
            node_id=node_id,
            legacy_id=_text(device, "id") or None,
            name=_text(device, "name"),
            hostname=_text(device, "hostname"),
            owner=_text(device, "user") or None,
            tags=_strings(device, "tags"),
            os=_text(device, "os"),
            addresses=_strings(device, "addresses"),
            last_seen=last_seen,
            connected_to_control=_flag(device, "connectedToControl"),
            authorized=_flag(device, "authorized"),
        )
    except ValidationError as exc:
        raise UnusableDeviceError(f"device {node_id}: {exc.error_count()} invalid fields") from None


def digest(value: bytes) -> bytes:
    """A short fingerprint of a stored value."""
    return hashlib.blake2b(value, digest_size=16).digest()


@dataclass(slots=True)
class InventoryPlan:
    """What one refresh must write: changed or new devices, and devices gone."""

    puts: dict[str, bytes] = field(default_factory=dict)
    deletes: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    devices: int = 0


def plan(devices: Iterable[Mapping[str, Any]], known: Mapping[str, bytes]) -> InventoryPlan:
    """Compare the tailnet's devices with the digests of what KV holds."""
    result = InventoryPlan()
    seen: set[str] = set()
    for device in devices:
        try:
            snap = snapshot(device)
        except UnusableDeviceError as exc:
            result.skipped.append(str(exc))
            continue
        if snap.node_id in seen:
            continue
        seen.add(snap.node_id)
        value = snap.model_dump_json().encode()
        if known.get(snap.node_id) != digest(value):
            result.puts[snap.node_id] = value
    result.devices = len(seen)
    result.deletes = [key for key in known if key not in seen]
    return result
