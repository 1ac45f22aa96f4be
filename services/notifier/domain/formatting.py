"""Small text helpers for Slack mrkdwn: dates, people, durations, devices."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from shared.contracts.events import ApproverGroup, DeviceSnapshot, Person
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


def group(group_id: str) -> str:
    """A Slack user group, as Slack shows it (`@dba-oncall`)."""
    return f"<!subteam^{group_id}>"


def people_by_source(
    who: Sequence[Person],
    group_ids: Sequence[str],
    members: Sequence[ApproverGroup],
    conjunction: str = "and",
) -> str:
    """Who was asked, grouped by where they came from: `a and, from @g, b and c`.

    Those in no group first, then each group's members (someone in two groups under the
    first). Without the members (older events) the groups follow the list as before:
    `a, b and c (from @g)`. Each list is clipped like `people`; the caller fits the whole."""
    if not group_ids:
        return people(who, conjunction)
    by_group = {g.group_id: {str(e) for e in g.members} for g in members}
    if not by_group:
        groups = ", ".join(group(g) for g in group_ids)
        return f"{people(who, conjunction)} (from {groups})"
    placed: set[str] = set()
    segments: list[tuple[str, list[Person]]] = []
    for group_id in group_ids:
        mine = [
            p for p in who if p.email in by_group.get(group_id, set()) and p.email not in placed
        ]
        placed.update(p.email for p in mine)
        if mine:
            segments.append((group_id, mine))
    direct = [p for p in who if p.email not in placed]
    if not direct and len(segments) == 1:
        group_id, mine = segments[0]
        return f"{people(mine, conjunction)} (from {group(group_id)})"
    texts = [people(direct, conjunction)] if direct else []
    texts += [f"from {group(g)}, {people(mine, conjunction)}" for g, mine in segments]
    sizes = [len(direct)] if direct else []
    sizes += [len(mine) for _, mine in segments]
    out = texts[0]
    for previous, text in zip(sizes, texts[1:], strict=False):
        # "a and b; and, from @g, c": a semicolon once a part is itself a list
        out += f"{';' if previous > 1 else ''} {conjunction}, {text}"
    return out


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
