"""shared.cancellation: stopping work holds although Python 3.11's `wait_for` can swallow
a cancellation (cpython#86296), and cleanup is not cut short by cancelling again."""

from __future__ import annotations

import asyncio
import contextlib
import sys
import time

import pytest

from shared.cancellation import cancel_until_done, honour_lost_cancellation, to_the_end
from shared.reachability import StoppedError, until_stopped


async def _at_once() -> int:
    return 1


async def _requests_answered_at_once(stop: asyncio.Event, *, honour: bool) -> None:
    """A polling loop whose every await is a `wait_for` that completes at once."""
    while not stop.is_set():
        await asyncio.wait_for(_at_once(), 10)
        if honour:
            honour_lost_cancellation()


async def test_a_cancellation_a_wait_for_swallowed_is_honoured_at_the_next_turn() -> None:
    task = asyncio.ensure_future(_requests_answered_at_once(asyncio.Event(), honour=True))
    await asyncio.sleep(0.01)
    task.cancel()
    await asyncio.wait({task}, timeout=2.0)
    assert task.cancelled()


async def test_without_honouring_python_3_11_loses_every_cancellation() -> None:
    # Why the harness's polling loops honour lost cancellations: on 3.11 this loop
    # outlives every cancel (cpython#86296); from 3.12 on the first one ends it.
    stop = asyncio.Event()
    task = asyncio.ensure_future(_requests_answered_at_once(stop, honour=False))
    await asyncio.sleep(0.01)
    ended = await cancel_until_done(task, within=0.3)
    assert ended is (sys.version_info >= (3, 12))
    stop.set()
    await asyncio.wait({task}, timeout=2.0)
    assert task.done()


async def _ignores_cancellation(stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            await asyncio.sleep(1)
        except asyncio.CancelledError:
            continue


async def test_cancel_until_done_gives_up_at_its_limit() -> None:
    stop = asyncio.Event()
    task = asyncio.ensure_future(_ignores_cancellation(stop))
    await asyncio.sleep(0.01)  # running: a task cancelled before it starts never runs
    started = time.monotonic()
    ended = await cancel_until_done(task, within=0.3)
    took = time.monotonic() - started
    assert ended is False
    assert 0.3 <= took < 1.0
    stop.set()
    await cancel_until_done(task, within=1.0)  # now it ends, cancelled or not
    assert task.done()


async def test_cleanup_through_to_the_end_survives_cancelling_again_and_again() -> None:
    cleaned: list[str] = []

    async def cleanup() -> None:
        await asyncio.sleep(0.3)
        cleaned.append("done")

    async def work() -> None:
        try:
            await asyncio.sleep(60)
        finally:
            await to_the_end(cleanup())

    task = asyncio.ensure_future(work())
    await asyncio.sleep(0.01)
    assert await cancel_until_done(task, within=2.0)
    assert cleaned == ["done"]
    assert task.cancelled()


async def test_to_the_end_returns_what_the_work_returns() -> None:
    assert await to_the_end(_at_once()) == 1


async def test_until_stopped_with_recancel_ends_work_that_lost_the_first_cancel() -> None:
    finished: list[str] = []

    async def loses_the_first_cancel() -> None:
        try:
            with contextlib.suppress(asyncio.CancelledError):  # as a swallowing wait_for
                await asyncio.sleep(60)
            await asyncio.sleep(60)
        finally:
            finished.append("cleanup")

    stop = asyncio.Event()
    stop.set()
    with pytest.raises(StoppedError):
        await until_stopped(loses_the_first_cancel(), stop, grace=2.0, recancel=True)
    assert finished == ["cleanup"]
