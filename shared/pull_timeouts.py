"""FastStream's pull loop, with nats-py 2.16's bare fetch timeout taken as "no messages".

nats-py 2.16's `PullSubscription.fetch` (batch > 1) raises a bare `asyncio.TimeoutError`
when the server answers the no-wait probe with 408 only at the deadline (an idle
consumer, about every 5 s), where everywhere else it raises its own
`nats.errors.TimeoutError`. FastStream 0.7.8's `_consume_pull` suppresses only the
latter, so the loop dies, FastStream's supervisor logs an ERROR with a traceback and
restarts it. No newer release of either fixes it (checked against PyPI, 2026-12). The
fix upstream would be one word in either; here it is the same loop with the builtin
`TimeoutError` (which nats' own subclasses) suppressed, applied to the subscribers
`shared.subscribing` registers. Remove when FastStream or nats-py is upgraded past it.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from contextlib import suppress
from typing import Any

import anyio
from faststream.nats.subscriber.usecases.stream_pull_subscriber import (
    ConcurrentPullStreamSubscriber,
    PullStreamSubscriber,
)
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.js.errors import ServiceUnavailableError

# The builtin covers asyncio.TimeoutError (its alias) and nats.errors.TimeoutError.
IDLE_FETCH_ERRORS = (TimeoutError, ConnectionClosedError, ServiceUnavailableError)


class _IdleTolerantPull(PullStreamSubscriber):
    __slots__ = ()

    async def _consume_pull(self, cb: Callable[[Msg], Coroutine[Any, Any, Any]]) -> None:
        """FastStream's loop (stream_pull_subscriber.py), suppressing `IDLE_FETCH_ERRORS`."""
        assert self.subscription
        while self.running:
            messages: list[Msg] = []
            with suppress(*IDLE_FETCH_ERRORS):
                messages = await self.subscription.fetch(
                    batch=self.pull_sub.batch_size, timeout=self.pull_sub.timeout
                )
            if messages:
                async with anyio.create_task_group() as tg:
                    for msg in messages:
                        tg.start_soon(cb, msg)


class IdleTolerantPullSubscriber(_IdleTolerantPull):
    """A `PullStreamSubscriber` whose fetch loop survives an idle timeout."""

    __slots__ = ()


class IdleTolerantConcurrentPullSubscriber(_IdleTolerantPull, ConcurrentPullStreamSubscriber):
    """A `ConcurrentPullStreamSubscriber` (max_workers > 1) with the same loop."""

    __slots__ = ()


_REPLACEMENTS: dict[type[Any], type[Any]] = {
    PullStreamSubscriber: IdleTolerantPullSubscriber,
    ConcurrentPullStreamSubscriber: IdleTolerantConcurrentPullSubscriber,
}


def tolerate_idle_fetch(subscriber: object) -> None:
    """Give a subscriber `broker.subscriber(...)` made the fixed loop (same fields, so the
    class can be swapped before it starts); any other kind is left as it is."""
    replacement = _REPLACEMENTS.get(type(subscriber))
    if replacement is not None:
        subscriber.__class__ = replacement
