"""System posture attributes (`node:*`) that Tailscale derives from each device."""

from __future__ import annotations

import zlib
from typing import Any

from emulators.tailscale.rules import AttributeValue

_OS_VERSIONS = {
    "macos": ("14.7.4", "15.3.1", "15.4"),
    "windows": ("10.0.19045.5487", "10.0.22631.4890", "10.0.26100.3194"),
    "linux": ("5.15.0", "6.1.0", "6.8.0"),
    "ios": ("17.7.2", "18.3.1"),
    "android": ("14", "15"),
}


def system_attributes(device: dict[str, Any]) -> dict[str, AttributeValue]:
    """`node:*` attributes, stable per device (derived from nodeId so they never flap)."""
    os_name = str(device.get("os", "")).lower()
    salt = zlib.crc32(str(device.get("nodeId", "")).encode())
    versions = _OS_VERSIONS.get(os_name, ("1.0",))
    ts_version = str(device.get("clientVersion", "")).split("-", 1)[0]
    minor = ts_version.split(".")[1] if ts_version.count(".") >= 1 else "0"
    return {
        "node:os": os_name,
        "node:osVersion": versions[salt % len(versions)],
        # Tailscale's even minor versions are stable releases, odd ones unstable.
        "node:tsReleaseTrack": "stable" if minor.isdigit() and int(minor) % 2 == 0 else "unstable",
        "node:tsVersion": ts_version,
        "node:tsAutoUpdate": bool((salt >> 8) & 1),
    }
