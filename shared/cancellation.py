"""Cancelling that holds on Python 3.11.

On 3.11 `asyncio.wait_for` drops a cancellation that arrives just as what it awaits
completes (cpython#86296, fixed in 3.12): the cancelled task carries on as if nothing
happened. nats-py awaits every request through `wait_for`, so a task that polls
JetStream in a loop (the demo waiting for an event) meets that race often enough that a
single `cancel()` on Ctrl-C was lost on a loaded CI machine, and the demo only stopped
when its grace ran out. So:
- `cancel_until_done` cancels again every RECANCEL_SECONDS until the task ends (or the
  time is up);
- `to_the_end` runs cleanup that must not be cut short by those repeated cancellations
  (stopping processes), then lets the cancellation go on;
- `honour_lost_cancellation`, called at each turn of a polling loop, raises the
  cancellation a `wait_for` swallowed: in a loop of requests that answer at once, every
  cancellation can be lost (a task awaiting `wait_for` on a coroutine that returns at
  once survived 50 cancellations in a row here, on 3.11.7).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import Any, TypeVar

T = TypeVar("T")
RECANCEL_SECONDS = 0.1


async def cancel_until_done(task: asyncio.Future[Any], *, within: float) -> bool:
    """Cancel `task`, again every RECANCEL_SECONDS, until it ends; False if it still runs
    after `within` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while not task.done():
        remaining = deadline - loop.time()
        if remaining <= 0:
            return False
        task.cancel()
        await asyncio.wait({task}, timeout=min(RECANCEL_SECONDS, remaining))
    return True


async def to_the_end(work: Awaitable[T]) -> T:
    """Await `work` to its end even when this task is cancelled meanwhile (once or again
    and again); then raise the cancellation, if there was one."""
    task = asyncio.ensure_future(work)
    cancelled = False
    while True:
        try:
            result = await asyncio.shield(task)
        except asyncio.CancelledError:
            if task.done():  # the work itself was cancelled
                raise
            cancelled = True
        else:
            break
    if cancelled:
        raise asyncio.CancelledError
    return result


def honour_lost_cancellation() -> None:
    """Raise CancelledError if this task was asked to stop but the cancellation was
    swallowed on its way (call it where a polling loop turns)."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError
