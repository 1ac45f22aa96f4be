"""Small text helpers for Slack mrkdwn: dates, people, durations, devices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from shared.contracts.events import DeviceSnapshot, Person
from shared.durations import format_duration
from shared.slack_limits import NAME_TEXT, clip_mrkdwn, escape_mrkdwn, listing
from shared.wording import slack_date

__all__ = ["slack_date"]  # shared with intake's forms: one way to show a moment


def escape(text: str) -> str:
    """Slack's three control characters; everything user-typed goes through this."""
    return escape_mrkdwn(text)


def name(text: str) -> str:
    """A name someone else chose (person, device, tag), escaped and clipped to show."""
    return clip_mrkdwn(escape_mrkdwn(text), NAME_TEXT)


def person(who: Person) -> str:
    """A mention when the Slack id is known (Slack shows the current name), else name or email."""
    if who.slack_user_id:
        return f"<@{who.slack_user_id}>"
    return name(who.name or who.email)


def people(who: Sequence[Person], conjunction: str = "and") -> str:
    """`a`, `a and b`, `a, b and c` (or `a, b or c`); a long list ends `and 57 more`."""
    return listing([person(p) for p in who], conjunction)


def duration(seconds: int) -> str:
    """`2h`, `1h30m`, `1d`."""
    return format_duration(timedelta(seconds=seconds))


def device_name(device: DeviceSnapshot) -> str:
    """The device's short name, as the request form showed it (DeviceSnapshot.short_name)."""
    return name(device.short_name)


def device_owner(device: DeviceSnapshot) -> str:
    """Owner of an untagged device, or its tags (tagged devices have no human owner)."""
    if device.tags:
        return listing([f"`{name(t)}`" for t in device.tags])
    return name(device.owner or "unknown")


def tailscale_ip(device: DeviceSnapshot) -> str | None:
    """The device's first Tailscale IPv4 address (100.64.0.0/10), if it has one."""
    return next((a for a in device.addresses if a.startswith("100.")), None)


def device_url(admin_url: str, device: DeviceSnapshot) -> str | None:
    """Link to the device in the Tailscale admin console.

    UNVERIFIED: the console's URL scheme (`.../admin/machines/<100.x address>`) is
    observed behaviour, not a documented API; the base is configurable for that reason.
    """
    address = tailscale_ip(device)
    if address is None:
        return None
    return f"{admin_url.rstrip('/')}/{address}"
