"""The event loop the Accessbot services run on: uvloop's where it is installed.

The services spend most of their CPU in the event loop's own machinery (scheduling
callbacks, socket reads and writes for NATS and Slack, aiohttp's transports), which
uvloop implements on libuv in C: about 4% less CPU per flow in the notifier
(docs/architecture.md, "Cost per flow"). uvloop is a dependency everywhere but Windows,
which it does not support; there, and wherever it cannot be imported, asyncio's own
loop runs the same code.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def loop_factory() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's `new_event_loop`, or None (asyncio's default) when uvloop is missing."""
    try:
        uvloop = importlib.import_module("uvloop")
    except ImportError:
        return None
    factory: Callable[[], asyncio.AbstractEventLoop] = uvloop.new_event_loop
    return factory


def run(main: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run(main)`, on uvloop's loop when it is installed."""
    with asyncio.Runner(loop_factory=loop_factory()) as runner:
        return runner.run(main)


def running_loop() -> str:
    """Which loop runs this code ("uvloop" or "asyncio"), for the ready line."""
    return type(asyncio.get_running_loop()).__module__.partition(".")[0]
