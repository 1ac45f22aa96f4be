"""Signals from handlers to the subscriber runtime, and the one retry policy for lost races.

A compare-and-set lost to another writer is read again and decided again, at most
`CONFLICT_ATTEMPTS` times in a row; past that the input is redelivered after
`CONFLICT_RETRY_DELAY` seconds (a `RetryLaterError`), never retried in a tight loop.
"""

from __future__ import annotations

CONFLICT_ATTEMPTS = 10  # far above what two or three replicas racing on one key need
CONFLICT_RETRY_DELAY = 1.0  # seconds before a redelivery once the attempts are spent


class RetryLaterError(Exception):
    """An expected "not now" (e.g. another replica holds the record): the message is
    redelivered after `delay` seconds and logged as information, not as a failure."""

    def __init__(self, reason: str, delay: float = 1.0) -> None:
        super().__init__(reason)
        self.delay = delay
