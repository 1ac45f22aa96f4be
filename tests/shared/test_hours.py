"""The auto_approve.hours grammar (shared/hours.py): parsing, the wall clock, DST, mistakes."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from shared.hours import HoursError, parse_hours

BERLIN = ZoneInfo("Europe/Berlin")
OFFICE = "Mon-Fri 08:00-18:00 Europe/Berlin"


def berlin(year: int, month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def test_office_hours_by_the_berlin_clock() -> None:
    hours = parse_hours(OFFICE)
    # Monday 2026-11-30
    assert not hours.contains(berlin(2026, 11, 30, 7, 59))
    assert hours.contains(berlin(2026, 11, 30, 8, 0))  # the start is inside
    assert hours.contains(berlin(2026, 11, 30, 17, 59))
    assert not hours.contains(berlin(2026, 11, 30, 18, 0))  # the end is not
    assert not hours.contains(berlin(2026, 12, 5, 10, 0))  # Saturday
    # The same moment written in UTC: 07:30 UTC is 08:30 in Berlin in winter.
    assert hours.contains(datetime(2026, 11, 30, 7, 30, tzinfo=UTC))
    assert not hours.contains(datetime(2026, 11, 30, 17, 30, tzinfo=UTC))


def test_the_window_follows_the_clock_across_both_dst_changes() -> None:
    hours = parse_hours(OFFICE)
    # Spring forward (Mon 2027-03-29 is the first weekday of summer time): 08:00 CEST = 06:00 UTC.
    assert hours.contains(datetime(2027, 3, 29, 6, 0, tzinfo=UTC))
    assert not hours.contains(datetime(2027, 3, 29, 5, 59, tzinfo=UTC))
    # The Friday before, still winter: 08:00 CET = 07:00 UTC.
    assert not hours.contains(datetime(2027, 3, 26, 6, 30, tzinfo=UTC))
    assert hours.contains(datetime(2027, 3, 26, 7, 0, tzinfo=UTC))
    # Fall back (Sun 2026-10-25 03:00 -> 02:00): Monday's 08:00 is 07:00 UTC again.
    assert hours.contains(datetime(2026, 10, 26, 7, 0, tzinfo=UTC))
    assert not hours.contains(datetime(2026, 10, 26, 6, 59, tzinfo=UTC))


def test_a_window_over_the_skipped_and_repeated_hour() -> None:
    night = parse_hours("Sun 02:00-03:00 Europe/Berlin")
    # 2027-03-28: 02:00-03:00 never happens in Berlin; the moments around it are outside.
    assert not night.contains(datetime(2027, 3, 28, 0, 59, tzinfo=UTC))  # 01:59 CET
    assert not night.contains(datetime(2027, 3, 28, 1, 0, tzinfo=UTC))  # 03:00 CEST
    # 2026-10-25: 02:00-03:00 happens twice; both passes are inside.
    assert night.contains(datetime(2026, 10, 25, 0, 30, tzinfo=UTC))  # 02:30 CEST
    assert night.contains(datetime(2026, 10, 25, 1, 30, tzinfo=UTC))  # 02:30 CET
    assert not night.contains(datetime(2026, 10, 25, 2, 0, tzinfo=UTC))  # 03:00 CET


def test_an_overnight_window_belongs_to_the_day_it_starts() -> None:
    hours = parse_hours("Mon-Fri 22:00-06:00 Europe/Berlin")
    assert hours.overnight
    assert hours.contains(berlin(2026, 11, 30, 22, 0))  # Monday night
    assert hours.contains(berlin(2026, 12, 1, 5, 59))  # Tuesday morning, Monday's window
    assert not hours.contains(berlin(2026, 12, 1, 6, 0))
    assert not hours.contains(berlin(2026, 11, 30, 5, 0))  # Monday morning: Sunday not listed
    assert hours.contains(berlin(2026, 12, 5, 5, 0))  # Saturday morning: Friday's window
    assert not hours.contains(berlin(2026, 12, 5, 22, 0))  # Saturday night


def test_lists_wrapping_ranges_whole_days_and_any_case() -> None:
    hours = parse_hours("fri-mon,WED 00:00-24:00 UTC")
    assert sorted(hours.days) == [0, 2, 4, 5, 6]
    assert hours.contains(datetime(2026, 12, 6, 23, 59, tzinfo=UTC))  # Sunday
    assert not hours.contains(datetime(2026, 12, 1, 12, 0, tzinfo=UTC))  # Tuesday
    assert hours.text == "fri-mon,WED 00:00-24:00 UTC"


def test_the_local_date_is_the_zones() -> None:
    hours = parse_hours("Mon-Sun 00:00-24:00 America/New_York")
    # 03:00 UTC on Dec 1 is still Nov 30 in New York.
    assert hours.local_date(datetime(2026, 12, 1, 3, 0, tzinfo=UTC)).isoformat() == "2026-11-30"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "expected days, a time range and a zone"),
        ("Mon-Fri 08:00-18:00", "expected days, a time range and a zone"),
        ("Mon-Fri  08:00-18:00 UTC", "separated by single spaces"),
        ("Mon-Fri 08:00-18:00 Europe/Berlin extra", "expected days"),
        ("Mon-Fry 08:00-18:00 UTC", "'Fry' is not a day"),
        ("Monday 08:00-18:00 UTC", "'Monday' is not a day"),
        ("Mon-Wed-Fri 08:00-18:00 UTC", "'Mon-Wed-Fri' is not a day or a range"),
        ("Mon,,Fri 08:00-18:00 UTC", "an empty day"),
        ("Mon-Fri,Wed 08:00-18:00 UTC", "Wed is named twice"),
        ("Mon 8:00-18:00 UTC", "'8:00' is not a time such as 08:00"),
        ("Mon 08:00-18 UTC", "'18' is not a time such as 08:00"),
        ("Mon 08:00 UTC", "'08:00' is not a time range"),
        ("Mon 08:00-18:60 UTC", "'18:60' is not a time of day (00:00 to 24:00)"),
        ("Mon 24:00-06:00 UTC", "'24:00' is not a time of day (00:00 to 23:59)"),
        ("Mon 08:00-24:01 UTC", "'24:01' is not a time of day"),
        ("Mon 08:00-08:00 UTC", "starts and ends at the same time"),
        ("Mon 08:00-18:00 Europe/Berln", "'Europe/Berln' is not a known IANA time zone"),
        ("Mon 08:00-18:00 ../etc/passwd", "is not a time zone name"),
        ("Mon 08:00-18:00 CEST+1", "is not a known IANA time zone"),
    ],
)
def test_mistakes_are_named_in_one_line(text: str, says: str) -> None:
    with pytest.raises(HoursError) as caught:
        parse_hours(text)
    message = str(caught.value)
    assert says in message
    assert "\n" not in message
