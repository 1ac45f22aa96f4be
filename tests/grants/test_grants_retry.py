"""Retry policy: jittered exponential backoff, capped, honouring Retry-After, within a budget."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

from hypothesis import given
from hypothesis import strategies as st

from services.grants.adapters.tailscale.retry import (
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
)

POLICY = RetryPolicy(budget_seconds=20.0, base_delay=0.5, max_delay=8.0)


def test_backoff_doubles_then_caps():
    lows = [POLICY.backoff(attempt, 0.0) for attempt in range(7)]
    highs = [POLICY.backoff(attempt, 0.999999) for attempt in range(7)]
    assert lows == [0.25, 0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert [round(h, 3) for h in highs] == [0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]


@given(attempt=st.integers(min_value=0, max_value=10_000), rand=st.floats(0, 1, exclude_max=True))
def test_backoff_stays_between_half_and_full_ceiling(attempt, rand):
    ceiling = min(POLICY.max_delay, POLICY.base_delay * 2.0 ** min(attempt, 30))
    delay = POLICY.backoff(attempt, rand)
    assert ceiling / 2 <= delay <= ceiling


def test_retry_after_is_a_minimum_even_beyond_the_cap():
    assert POLICY.next_delay(0, remaining=30.0, retry_after=12.0, rand=0.5) == 12.0
    # A shorter Retry-After does not shorten the backoff.
    assert POLICY.next_delay(4, remaining=30.0, retry_after=0.0, rand=0.0) == 4.0


def test_gives_up_when_the_wait_does_not_fit_the_budget():
    assert POLICY.next_delay(0, remaining=0.1, retry_after=None, rand=0.0) is None
    assert POLICY.next_delay(0, remaining=5.0, retry_after=6.0, rand=0.0) is None
    assert POLICY.next_delay(0, remaining=5.0, retry_after=4.0, rand=0.0) == 4.0


def test_only_rate_limits_timeouts_and_server_errors_are_retried():
    assert [s for s in (400, 401, 403, 404, 408, 409, 422, 429) if is_retryable_status(s)] == [
        408,
        429,
    ]
    assert all(is_retryable_status(s) for s in (500, 502, 503, 504, 599))


def test_retry_after_in_seconds_or_as_an_http_date():
    now = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 0 ") == 0.0
    assert parse_retry_after(format_datetime(now + timedelta(seconds=30), usegmt=True), now) == 30.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=30), usegmt=True), now) == 0.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("soon") is None
    assert parse_retry_after("-3") is None
