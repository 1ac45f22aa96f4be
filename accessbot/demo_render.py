"""Slack mrkdwn as a person reads it in Slack, for `accessbot demo`'s printout (pure).

Mentions become names, device node ids the device's name, `<!date^…|…>` the local
time in the format the token asks for (Slack's documented tokens), links their label,
and `&lt;`/`&gt;`/`&amp;` their characters. The text is rendered before it is
shortened, so no token is cut.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, tzinfo

from emulators.slack.mrkdwn_html import EMOJI

_TOKEN_RE = re.compile(r"<([^<>]*)>")
_EMOJI_RE = re.compile(r":([a-z0-9_+-]{1,64}):")
_DATE_FORMAT_RE = re.compile(r"\{(\w+)\}")


@dataclass(frozen=True)
class Names:
    """What ids stand for: Slack users and channels, Tailscale devices."""

    people: Mapping[str, str] = field(default_factory=dict)
    channels: Mapping[str, str] = field(default_factory=dict)
    devices: Mapping[str, str] = field(default_factory=dict)
    groups: Mapping[str, str] = field(default_factory=dict)  # user group id -> handle

    def device(self, node_id: str) -> str:
        """The device's name, or its node id when unknown."""
        return self.devices.get(node_id, node_id)


def json_value(value: object) -> str:
    """A value as JSON spells it (`true`, not `True`), as Tailscale and the events store it."""
    return json.dumps(value, default=str, ensure_ascii=False)


def _ordinal(day: int) -> str:
    suffix = "th" if 10 <= day % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _relative_day(moment: datetime, now: datetime) -> str | None:
    days = (moment.date() - now.date()).days
    return {-1: "yesterday", 0: "today", 1: "tomorrow"}.get(days)


def _ago(moment: datetime, now: datetime) -> str:
    seconds = int((moment - now).total_seconds())
    size = abs(seconds)
    for unit, length in (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1)):
        if size >= length or unit == "second":
            count = size // length
            text = f"{count} {unit}{'' if count == 1 else 's'}"
            return f"in {text}" if seconds > 0 else f"{text} ago"
    return ""  # unreachable: the loop returns at "second"


def format_date(token: str, moment: datetime, now: datetime) -> str | None:
    """One of Slack's date tokens (`date_num`, `date_short_pretty`, `time`, …); None if unknown."""
    date_num = f"{moment:%Y-%m-%d}"
    date = f"{moment:%B} {_ordinal(moment.day)}, {moment.year}"
    date_short = f"{moment:%b} {moment.day}, {moment.year}"
    date_long = f"{moment:%A}, {date}"
    pretty = _relative_day(moment, now)
    known = {
        "date_num": date_num,
        "date": date,
        "date_short": date_short,
        "date_long": date_long,
        "date_pretty": pretty or date,
        "date_short_pretty": pretty or date_short,
        "date_long_pretty": pretty or date_long,
        "time": f"{moment:%H:%M}",
        "time_secs": f"{moment:%H:%M:%S}",
        "ago": _ago(moment, now),
    }
    return known.get(token)


def _date(body: str, tz: tzinfo | None, now: datetime) -> str:
    # !date^<unix>^<format>[^<link>]|<fallback>
    spec, _, fallback = body.partition("|")
    parts = spec.split("^")
    if len(parts) < 3 or not parts[1].isdigit():
        return fallback or body
    moment = datetime.fromtimestamp(int(parts[1]), tz=now.tzinfo).astimezone(tz)
    local_now = now.astimezone(tz)

    def one(match: re.Match[str]) -> str:
        return format_date(match.group(1), moment, local_now) or match.group(0)

    return _DATE_FORMAT_RE.sub(one, parts[2])


def _token(body: str, names: Names, tz: tzinfo | None, now: datetime) -> str:
    target, _, label = body.partition("|")
    if target.startswith("@"):
        return "@" + (names.people.get(target[1:]) or label or target[1:])
    if target.startswith("#"):
        return "#" + (names.channels.get(target[1:]) or label or target[1:])
    if target.startswith("!date^"):
        return _date(body, tz, now)
    if target.startswith("!subteam^"):
        group = target.removeprefix("!subteam^")
        handle = names.groups.get(group)
        return f"@{handle}" if handle else label or f"@{group}"
    if target.startswith("!"):
        return "@" + target[1:]
    return label or target


def render_mrkdwn(text: str, names: Names, *, now: datetime, tz: tzinfo | None = None) -> str:
    """`text` as Slack shows it to a person in time zone `tz` (None: this machine's)."""
    rendered = _TOKEN_RE.sub(lambda m: _token(m.group(1), names, tz, now), text)
    # Slack draws `:shortcode:` as the emoji (the console's table); unknown names stay text.
    rendered = _EMOJI_RE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), rendered)
    # Before the notifier has read a device it can only name it by its node id.
    for node_id, name in names.devices.items():
        if node_id in rendered:
            rendered = re.sub(rf"\b{re.escape(node_id)}\b", name, rendered)
    return rendered.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def clip(text: str, width: int) -> str:
    """The text on one line, shortened at a word boundary with `…` past `width`."""
    line = " ".join(text.split())
    if len(line) <= width:
        return line
    cut = line[: width - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > width // 2 else cut) + "…"
