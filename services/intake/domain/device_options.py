"""Device picker options (Block Kit, pure): "Your devices", then "All devices"."""

from __future__ import annotations

from typing import Any

from slack_sdk.models.blocks import Option, OptionGroup

from services.intake.domain.device_index import DeviceSearch
from shared.contracts.events import DeviceSnapshot
from shared.slack_limits import OPTION_TEXT, clip_plain

YOUR_DEVICES = "Your devices"
ALL_DEVICES = "All devices"


def _ipv4(device: DeviceSnapshot) -> str | None:
    return next((a for a in device.addresses if "." in a and ":" not in a), None)


def device_label(device: DeviceSnapshot, *, show_owner: bool) -> str:
    """`short-name · 100.x.y.z · macOS`, with whose it is for others' devices; <= 75 chars."""
    parts = [device.short_name]
    ip = _ipv4(device)
    if ip:
        parts.append(ip)
    if show_owner:
        parts.append(", ".join(device.tags) if device.tags else (device.owner or "no owner"))
    if device.os:
        parts.append(device.os)
    if device.connected_to_control is False:
        parts.append("offline")
    return clip_plain(" · ".join(parts), OPTION_TEXT)


def device_option(device: DeviceSnapshot, *, show_owner: bool) -> Option:
    """One option: the node id (<= 64 chars, under the 150 limit) is the value."""
    return Option(value=device.node_id, text=device_label(device, show_owner=show_owner))


def device_option_groups(search: DeviceSearch) -> list[OptionGroup]:
    """Non-empty groups only (Slack rejects an empty group)."""
    groups: list[OptionGroup] = []
    if search.own:
        groups.append(
            OptionGroup(
                label=YOUR_DEVICES,
                options=[device_option(d, show_owner=False) for d in search.own],
            )
        )
    if search.others:
        groups.append(
            OptionGroup(
                label=ALL_DEVICES,
                options=[device_option(d, show_owner=True) for d in search.others],
            )
        )
    return groups


def suggestion_response(groups: list[OptionGroup]) -> dict[str, Any]:
    """The block_suggestion ack body."""
    if not groups:
        return {"options": []}
    return {"option_groups": [g.to_dict() for g in groups]}
