"""Slack's `<!date^timestamp^format^link|fallback>` as an HTML <time> (pure: stdlib only).

Tokens follow Slack's "Formatting text: date" reference. Times are 24-hour (Slack uses
the viewer's preference; the console has none). Relative forms ({ago}, "Today") need
the viewer's `now`; without it they fall back to absolute ones so output is stable.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from emulators.slack.html_safety import anchor, safe_href

_TOKEN = re.compile(r"\{(\w{1,32})\}")
# Outside these (1970 .. year 9998) the fallback is shown: datetime cannot hold every epoch.
_MIN_TS, _MAX_TS = 0, 253_370_764_799
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# English names spelled out: strftime's %B/%A follow the process locale.
_MONTHS = (
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
)  # fmt: skip
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def _ordinal(day: int) -> str:
    suffix = "th" if 11 <= day % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(day % 10, "th")
    return f"{day}{suffix}"


def _date(moment: datetime) -> str:
    return f"{_MONTHS[moment.month - 1]} {_ordinal(moment.day)}, {moment.year}"


def _date_short(moment: datetime) -> str:
    return f"{_MONTHS[moment.month - 1][:3]} {moment.day}, {moment.year}"


def _date_long(moment: datetime) -> str:
    return f"{_WEEKDAYS[moment.weekday()]}, {_date(moment)}"


def _relative_day(moment: datetime, now: datetime | None) -> str | None:
    if now is None:
        return None
    days = (moment.date() - now.astimezone(moment.tzinfo).date()).days
    return {-1: "Yesterday", 0: "Today", 1: "Tomorrow"}.get(days)


def _ago(moment: datetime, now: datetime | None) -> str:
    if now is None:
        return f"{_date_short(moment)} {moment:%H:%M}"
    seconds = int((now - moment).total_seconds())
    size = abs(seconds)
    for unit, length in (("day", 86_400), ("hour", 3_600), ("minute", 60)):
        if size >= length:
            count = size // length
            words = f"{count} {unit}{'s' if count != 1 else ''}"
            return f"{words} ago" if seconds > 0 else f"in {words}"
    return "just now"


def _formatters(moment: datetime, now: datetime | None) -> dict[str, Callable[[], str]]:
    relative = _relative_day(moment, now)
    return {
        "date_num": lambda: moment.date().isoformat(),
        "date": lambda: _date(moment),
        "date_short": lambda: _date_short(moment),
        "date_long": lambda: _date_long(moment),
        "date_pretty": lambda: relative or _date(moment),
        "date_short_pretty": lambda: relative or _date_short(moment),
        "date_long_pretty": lambda: relative or _date_long(moment),
        "time": lambda: f"{moment:%H:%M}",
        "time_secs": lambda: f"{moment:%H:%M:%S}",
        "ago": lambda: _ago(moment, now),
    }


def render_date(argument: str, fallback: str, zone: ZoneInfo, now: datetime | None) -> str:
    """`argument` is what follows `<!date^` up to `|`: `timestamp^format[^link]`."""
    timestamp, _, rest = argument.partition("^")
    template, _, link = rest.partition("^")
    try:
        seconds = int(timestamp)
    except ValueError:
        seconds = _MAX_TS + 1
    if not _MIN_TS <= seconds <= _MAX_TS or not template:
        return escape(fallback or argument)
    moment = _EPOCH + timedelta(seconds=seconds)
    local = moment.astimezone(zone)
    formatters = _formatters(local, now)
    words = _TOKEN.sub(lambda m: formatters[m[1]]() if m[1] in formatters else m[0], template)
    html = (
        f'<time class="bk-date" datetime="{moment:%Y-%m-%dT%H:%M:%SZ}"'
        f' title="{escape(fallback, quote=True)}">{escape(words)}</time>'
    )
    href = safe_href(link.replace("&amp;", "&"))
    return anchor(href, html) if href else html
