"""Ctrl-C under `accessbot demo --console`: it stops a running demo, but once the demo is
over and the console is only being looked at, it just closes the console."""

from __future__ import annotations

import asyncio

from accessbot.demo_console import Watch


async def test_ctrl_c_while_the_demo_runs_stops_it() -> None:
    watch = Watch()
    watch.interrupt()
    assert watch.stopping.is_set()
    assert not watch.done.is_set()


async def test_ctrl_c_after_the_demo_closes_the_console_without_stopping() -> None:
    watch = Watch()
    lingering = asyncio.create_task(watch.linger())
    await asyncio.sleep(0)
    assert not lingering.done()
    watch.interrupt()
    await asyncio.wait_for(lingering, 1)
    assert not watch.stopping.is_set()
