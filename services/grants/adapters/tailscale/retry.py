"""When to retry a Tailscale call and how long to wait: pure, no I/O, no clock.

Exponential backoff with "equal jitter" (half fixed, half random) so replicas do
not retry in lockstep, a cap per delay, and a total budget. A `Retry-After`
from Tailscale is honoured as a minimum, even beyond the cap, as long as it
fits the budget.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime


def is_retryable_status(status: int) -> bool:
    """Rate limits, request timeouts and server failures are worth another try; other 4xx not."""
    return status in (408, 429) or status >= 500


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or HTTP date), if usable."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    if text.isdigit():
        return float(int(text))
    try:
        moment = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(0.0, (moment - (now or datetime.now(UTC))).total_seconds())


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Backoff parameters and the total time budget of one call."""

    budget_seconds: float = 20.0
    base_delay: float = 0.5
    max_delay: float = 8.0

    def backoff(self, attempt: int, rand: float) -> float:
        """Delay after failed attempt number `attempt` (0-based); `rand` is uniform in [0, 1)."""
        ceiling = min(self.max_delay, self.base_delay * 2.0 ** min(attempt, 30))
        return ceiling / 2 + rand * ceiling / 2

    def next_delay(
        self, attempt: int, remaining: float, retry_after: float | None, rand: float
    ) -> float | None:
        """How long to wait before the next attempt, or None when the budget cannot cover it.

        `remaining` is what is left of the budget (or of the caller's deadline).
        """
        delay = self.backoff(attempt, rand)
        if retry_after is not None:
            delay = max(delay, retry_after)
        if delay >= remaining:
            return None
        return delay
