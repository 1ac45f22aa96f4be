"""FastStream's pull loop, with two changes: nats-py 2.16's bare fetch timeout is taken as
"no messages", and a fetch asks for one message while the consumer keeps up.

nats-py 2.16's `PullSubscription.fetch` (batch > 1) raises a bare `asyncio.TimeoutError`
when the server answers the no-wait probe with 408 only at the deadline (an idle
consumer, about every 5 s), where everywhere else it raises its own
`nats.errors.TimeoutError`. FastStream 0.7.8's `_consume_pull` suppresses only the
latter, so the loop dies, FastStream's supervisor logs an ERROR with a traceback and
restarts it. No newer release of either fixes it (checked against PyPI, 2026-12). The
fix upstream would be one word in either; here it is the same loop with the builtin
`TimeoutError` (which nats' own subclasses) suppressed, applied to the subscribers
`shared.subscribing` registers. When FastStream or nats-py is upgraded past it, only
the suppression goes: the loop stays for the batch size it asks for (below).

A pull for a batch is answered by the messages there are and then, when there are
fewer, by the server's "no more messages" status, which nats-py waits for and parses; a
pull for one is answered by the message alone. Most of the time a consumer keeps up and
a fetch finds one message (in `bench.throughput` each of the notifier's consumers sees
about 35 events a second; in a real tailnet far fewer), so the loop asks for a full
batch only while the last message said more were pending (JetStream's `num_pending`, in
every delivery's metadata): at one message per fetch, about 0.2 of 1.3 ms of CPU per
event (`bench.subscriber_cpu`, docs/architecture.md "Cost per flow").
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Sequence
from contextlib import suppress
from typing import Any

import anyio
from faststream.nats.subscriber.usecases.stream_pull_subscriber import (
    ConcurrentPullStreamSubscriber,
    PullStreamSubscriber,
)
from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError, NotJSMessageError
from nats.js.errors import ServiceUnavailableError

# The builtin covers asyncio.TimeoutError (its alias) and nats.errors.TimeoutError.
IDLE_FETCH_ERRORS = (TimeoutError, ConnectionClosedError, ServiceUnavailableError)


def next_batch(fetched: Sequence[Msg], batch_size: int) -> int:
    """How many messages the next fetch asks for: `batch_size` while the consumer is
    behind (the last message fetched said more were pending), else one."""
    if not fetched or batch_size <= 1:
        return 1
    try:
        pending = fetched[-1].metadata.num_pending
    except NotJSMessageError:  # no JetStream metadata (TestNatsBroker's in-memory messages)
        return batch_size
    return batch_size if pending > 0 else 1


class _IdleTolerantPull(PullStreamSubscriber):
    __slots__ = ()

    async def _consume_pull(self, cb: Callable[[Msg], Coroutine[Any, Any, Any]]) -> None:
        """FastStream's loop (stream_pull_subscriber.py), suppressing `IDLE_FETCH_ERRORS`
        and asking for a batch only while the consumer is behind (`next_batch`)."""
        assert self.subscription
        batch = self.pull_sub.batch_size  # a backlog at start is fetched in batches
        while self.running:
            messages: list[Msg] = []
            with suppress(*IDLE_FETCH_ERRORS):
                messages = await self.subscription.fetch(batch=batch, timeout=self.pull_sub.timeout)
            batch = next_batch(messages, self.pull_sub.batch_size)
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
