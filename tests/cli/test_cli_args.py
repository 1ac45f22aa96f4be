"""Argument types of `accessbot`: times, durations and URLs as a person writes them."""

from __future__ import annotations

import argparse
from datetime import UTC, datetime, timedelta, timezone

import pytest

from accessbot.cli_args import base_url, duration, moment


def test_since_takes_a_duration_ago_or_an_iso_time() -> None:
    before = datetime.now(UTC)
    an_hour_ago = moment("1h")
    assert before - timedelta(hours=1) <= an_hour_ago <= datetime.now(UTC) - timedelta(hours=1)
    ninety_minutes_ago = moment("1h30m")
    assert datetime.now(UTC) - ninety_minutes_ago >= timedelta(minutes=90)
    assert moment("2026-03-01") == datetime(2026, 3, 1, tzinfo=UTC)
    assert moment("2026-03-01T09:30:00Z") == datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    plus_one = moment("2026-03-01T09:30:00+01:00")
    assert plus_one.utcoffset() == timezone(timedelta(hours=1)).utcoffset(None)
    with pytest.raises(argparse.ArgumentTypeError, match="neither a time"):
        moment("last tuesday")


def test_durations_as_profiles_write_them_or_bare_seconds() -> None:
    parse = duration(minimum=timedelta(seconds=1), maximum=timedelta(hours=2))
    assert parse("10m") == timedelta(minutes=10)
    assert parse("1h30m") == timedelta(minutes=90)
    assert parse("45") == timedelta(seconds=45)
    assert parse("2.5") == timedelta(seconds=2.5)
    for bad, why in (("0", "between 1s and 2h"), ("3h", "between"), ("-5", "not a duration")):
        with pytest.raises(argparse.ArgumentTypeError, match=why):
            parse(bad)


def test_health_url_gets_readyz_appended_to_a_base_url() -> None:
    assert base_url("http://127.0.0.1:8081") == "http://127.0.0.1:8081/readyz"
    assert base_url("http://host:8081/") == "http://host:8081/readyz"
    assert base_url("https://host/approvals") == "https://host/approvals/readyz"
    assert base_url("http://host:8081/readyz") == "http://host:8081/readyz"
    assert base_url("http://host:8081/healthz") == "http://host:8081/healthz"
    with pytest.raises(argparse.ArgumentTypeError, match="not a URL"):
        base_url("host:8081")
