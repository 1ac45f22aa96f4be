"""KeyedLocks: one holder per key, in arrival order, other keys free, a bounded table."""

from __future__ import annotations

import asyncio

import pytest

from shared.keyed_locks import KeyedLocks


async def test_one_key_runs_one_holder_at_a_time_in_arrival_order() -> None:
    locks = KeyedLocks()
    order: list[str] = []
    release = asyncio.Event()

    async def hold(name: str, key: str) -> None:
        async with locks.hold(key):
            order.append(f"{name}+")
            if name == "a1":
                await release.wait()
            order.append(f"{name}-")

    tasks = [asyncio.create_task(hold(n, k)) for n, k in (("a1", "a"), ("a2", "a"), ("b1", "b"))]
    await asyncio.sleep(0.05)
    # b is not held up by a's holder; a2 waits for a1.
    assert order == ["a1+", "b1+", "b1-"]
    release.set()
    await asyncio.gather(*tasks)
    assert order == ["a1+", "b1+", "b1-", "a1-", "a2+", "a2-"]
    assert len(locks) == 0, "keys nobody holds are dropped"


async def test_a_new_key_waits_for_room_when_the_table_is_full() -> None:
    locks = KeyedLocks(max_keys=2)
    release = asyncio.Event()
    entered: list[str] = []

    async def hold(key: str) -> None:
        async with locks.hold(key):
            entered.append(key)
            if key in {"a", "b"}:
                await release.wait()

    held = [asyncio.create_task(hold("a")), asyncio.create_task(hold("b"))]
    await asyncio.sleep(0.05)
    third = asyncio.create_task(hold("c"))
    again = asyncio.create_task(hold("a"))  # a key already in the table needs no room
    await asyncio.sleep(0.05)
    assert entered == ["a", "b"]
    assert len(locks) == 2, "the table never grows past its bound"
    release.set()
    await asyncio.gather(*held, third, again)
    assert sorted(entered) == ["a", "a", "b", "c"]
    assert len(locks) == 0


def test_a_table_must_have_room_for_one_key() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        KeyedLocks(max_keys=0)
