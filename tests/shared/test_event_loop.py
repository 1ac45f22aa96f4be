"""The services run on uvloop where it is installed, and on asyncio's loop without it."""

from __future__ import annotations

import asyncio
import sys

import pytest

from shared import event_loop


async def _which() -> tuple[str, str]:
    await asyncio.sleep(0)
    return event_loop.running_loop(), type(asyncio.get_running_loop()).__module__


def test_run_returns_the_coroutines_result_on_uvloop() -> None:
    name, module = event_loop.run(_which())
    assert name == "uvloop"
    assert module.startswith("uvloop")


def test_without_uvloop_the_same_code_runs_on_asyncio(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "uvloop", None)  # `import uvloop` raises ImportError
    assert event_loop.loop_factory() is None
    name, module = event_loop.run(_which())
    assert name == "asyncio"
    assert module.startswith("asyncio")


def test_an_exception_in_the_coroutine_reaches_the_caller() -> None:
    async def fails() -> None:
        raise LookupError("inside")

    with pytest.raises(LookupError, match="inside"):
        event_loop.run(fails())
