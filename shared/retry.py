"""Signals from handlers to the subscriber runtime, free of any broker import."""

from __future__ import annotations


class RetryLaterError(Exception):
    """An expected "not now" (e.g. another replica holds the record): the message is
    redelivered after `delay` seconds and logged as information, not as a failure."""

    def __init__(self, reason: str, delay: float = 1.0) -> None:
        super().__init__(reason)
        self.delay = delay
