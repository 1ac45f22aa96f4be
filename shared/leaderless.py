""" "No JetStream leader answered": the one set of errors it shows as, and the one bounded resend.

While a cluster elects a stream's (or a bucket's) leader after a node died, or before a
server answers at all, a request times out, finds no responders, or gets a 503. The same
request sent again a little later lands; what a resend duplicates, JetStream's dedupe (a
message id) or KV's revision check (a write) catches.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NoStreamResponseError, ServiceUnavailableError

T = TypeVar("T")
LEADERLESS = (
    NatsTimeoutError,
    NoRespondersError,
    NoStreamResponseError,
    ServiceUnavailableError,
)
RETRY_PAUSE_SECONDS = 0.25


async def with_patience(send: Callable[[], Awaitable[T]], patience: float) -> T:
    """`send()`, again every RETRY_PAUSE_SECONDS while no leader answers, for at most
    `patience` seconds; then (or with no patience) the last error stands."""
    give_up = time.monotonic() + patience
    while True:
        try:
            return await send()
        except LEADERLESS:
            if time.monotonic() + RETRY_PAUSE_SECONDS >= give_up:
                raise
            await asyncio.sleep(RETRY_PAUSE_SECONDS)
