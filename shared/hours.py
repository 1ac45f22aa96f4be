"""A weekly time window such as `Mon-Fri 08:00-18:00 Europe/Berlin` (auto_approve.hours).

Grammar (one space between the three parts; day names in English, any case):

    hours := days " " time "-" time " " zone
    days  := day-or-range ("," day-or-range)*        e.g. Mon-Fri   Mon,Wed,Fri   Fri-Mon
    day-or-range := DAY | DAY "-" DAY                 DAY: Mon Tue Wed Thu Fri Sat Sun
    time  := HH:MM, 00:00 to 23:59; the end may be 24:00 (midnight at the end of the day)
    zone  := an IANA time zone name known to zoneinfo (Europe/Berlin, UTC, America/New_York)

A range may wrap over the week's end (`Fri-Mon` is Fri, Sat, Sun, Mon); a day may not be
named twice. An end earlier than the start is an overnight window: `Mon-Fri 22:00-06:00`
runs from each listed day's 22:00 to the next morning's 06:00. The start counts as
inside, the end does not.

Times are wall-clock times in the zone: a moment is inside when the zone's clock reads a
listed day and a time in the window. Across a DST change the window follows the clock
(08:00 is 08:00 local on both sides); a repeated hour is inside twice when its clock
time is, a skipped hour simply never happens.

Pure: no clock of its own; callers pass the moment (an aware datetime).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_INDEX = {d.lower(): i for i, d in enumerate(DAYS)}
_TIME_RE = re.compile(r"^(\d{2}):(\d{2})$")
# What a zone name may look like before zoneinfo is asked (no paths, no dots-only names).
_ZONE_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_+-]*(/[A-Za-z0-9_+-]+)*$")
_EXAMPLE = "'Mon-Fri 08:00-18:00 Europe/Berlin'"
_MIDNIGHT_MINUTES = 24 * 60


class HoursError(ValueError):
    """The text is not a window; the message is one line naming what is wrong."""


def _day(text: str) -> int:
    index = _INDEX.get(text.lower())
    if index is None:
        raise HoursError(f"{text!r} is not a day (use Mon, Tue, Wed, Thu, Fri, Sat, Sun)")
    return index


def _days(text: str) -> frozenset[int]:
    days: list[int] = []
    for item in text.split(","):
        if not item:
            raise HoursError(f"{text!r}: an empty day in the list")
        ends = item.split("-")
        if len(ends) > 2:
            raise HoursError(f"{item!r} is not a day or a range such as Mon-Fri")
        first = _day(ends[0])
        last = _day(ends[-1])
        span = (last - first) % 7
        for offset in range(span + 1):
            day = (first + offset) % 7
            if day in days:
                raise HoursError(f"{DAYS[day]} is named twice in {text!r}")
            days.append(day)
    return frozenset(days)


def _minutes(text: str, *, end: bool) -> int:
    match = _TIME_RE.match(text)
    if match is None:
        raise HoursError(f"{text!r} is not a time such as 08:00 (HH:MM, 24-hour)")
    hour, minute = int(match.group(1)), int(match.group(2))
    total = hour * 60 + minute
    if end and total == _MIDNIGHT_MINUTES:
        return total
    if hour > 23 or minute > 59:
        limit = "00:00 to 24:00" if end else "00:00 to 23:59"
        raise HoursError(f"{text!r} is not a time of day ({limit})")
    return total


def _zone(text: str) -> ZoneInfo:
    if not _ZONE_RE.match(text):
        raise HoursError(f"{text!r} is not a time zone name such as Europe/Berlin or UTC")
    try:
        return ZoneInfo(text)
    except (ZoneInfoNotFoundError, ValueError):
        known = "e.g. Europe/Berlin, UTC"
        raise HoursError(f"{text!r} is not a known IANA time zone ({known})") from None


@dataclass(frozen=True, slots=True)
class Hours:
    """A parsed window; `text` is what the file said (shown in the audit message)."""

    text: str
    days: frozenset[int]  # 0 = Monday
    start: int  # minutes after midnight
    end: int  # minutes after midnight; < start: overnight
    zone: ZoneInfo

    @property
    def overnight(self) -> bool:
        """Whether the window ends on the day after it starts."""
        return self.end < self.start

    def contains(self, moment: datetime) -> bool:
        """Whether `moment` (aware) falls inside the window, by the zone's wall clock."""
        local = moment.astimezone(self.zone)
        minutes = local.hour * 60 + local.minute
        weekday = local.weekday()
        if not self.overnight:
            return weekday in self.days and self.start <= minutes < self.end
        started_today = weekday in self.days and minutes >= self.start
        started_yesterday = (weekday - 1) % 7 in self.days and minutes < self.end
        return started_today or started_yesterday

    def local_date(self, moment: datetime) -> date:
        """The calendar date the zone's clock shows at `moment`."""
        return moment.astimezone(self.zone).date()


def parse_hours(text: str) -> Hours:
    """Parse the grammar above, or raise HoursError with one line naming the mistake."""
    parts = text.split(" ")
    if len(parts) != 3 or not all(parts):
        raise HoursError(
            f"expected days, a time range and a zone separated by single spaces, such as {_EXAMPLE}"
        )
    days_text, times_text, zone_text = parts
    days = _days(days_text)
    times = times_text.split("-")
    if len(times) != 2:
        raise HoursError(f"{times_text!r} is not a time range such as 08:00-18:00")
    start = _minutes(times[0], end=False)
    end = _minutes(times[1], end=True)
    if start == end:
        raise HoursError(f"{times_text!r} starts and ends at the same time")
    return Hours(text=text, days=days, start=start, end=end, zone=_zone(zone_text))
