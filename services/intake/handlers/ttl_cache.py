"""A small async cache with expiry; concurrent misses for one key share one load."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any, Generic, TypeVar

K = TypeVar("K")
V = TypeVar("V")


class TtlCache(Generic[K, V]):
    """Values expire `ttl` seconds after loading; at most `max_size` are kept (LRU)."""

    def __init__(
        self,
        ttl: float,
        *,
        max_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_size = max_size
        self._clock = clock
        self._values: OrderedDict[K, tuple[float, V]] = OrderedDict()
        self._loading: dict[K, asyncio.Future[V]] = {}

    def peek(self, key: K) -> V | None:
        """The cached value if fresh; never loads."""
        hit = self._values.get(key)
        if hit is None or hit[0] <= self._clock():
            return None
        self._values.move_to_end(key)
        return hit[1]

    def put(self, key: K, value: V) -> None:
        """Store a value learnt another way (it expires like a loaded one)."""
        self._store(key, value)

    async def get(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        """The cached value, or `load()`'s (an exception is not cached).

        The load runs as its own task: a caller that gives up waiting (a timeout)
        does not cancel it for the others, and its result is still cached.
        """
        hit = self._values.get(key)
        if hit is not None and hit[0] > self._clock():
            self._values.move_to_end(key)
            return hit[1]
        pending = self._loading.get(key)
        if pending is None:
            pending = asyncio.ensure_future(self._load(key, load))
            pending.add_done_callback(_retrieve)
            self._loading[key] = pending
        return await asyncio.shield(pending)

    async def _load(self, key: K, load: Callable[[], Awaitable[V]]) -> V:
        try:
            value = await load()
        finally:
            self._loading.pop(key, None)
        self._store(key, value)
        return value

    def _store(self, key: K, value: V) -> None:
        self._values[key] = (self._clock() + self._ttl, value)
        self._values.move_to_end(key)
        while len(self._values) > self._max_size:
            self._values.popitem(last=False)


def _retrieve(task: asyncio.Future[Any]) -> None:
    """Mark a failed load's exception as seen even if every caller gave up waiting."""
    if not task.cancelled():
        task.exception()
