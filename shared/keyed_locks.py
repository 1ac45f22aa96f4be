"""One asyncio lock per key, dropped when nobody holds or waits for it; a bounded table.

Services handle several messages at once (so one slow request does not hold up
the others) but must handle the messages of one request, or the changes to one
device's attribute, one at a time: `async with locks.hold(key)`. Waiters of one
key are served in arrival order (asyncio.Lock is FIFO). The table holds at most
`max_keys` keys: a holder of a new key waits for a free slot rather than grow it.
Across replicas the KV compare-and-set keeps records consistent; these locks only
order work inside one process.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

DEFAULT_MAX_KEYS = 1024


class KeyedLocks:
    """`async with locks.hold(key):` runs one holder per key at a time."""

    def __init__(self, max_keys: int = DEFAULT_MAX_KEYS) -> None:
        if max_keys < 1:
            raise ValueError("max_keys must be at least 1")
        self._max_keys = max_keys
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}
        self._room = asyncio.Condition()

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the key's lock for the duration of the block."""
        async with self._room:
            await self._room.wait_for(
                lambda: key in self._locks or len(self._locks) < self._max_keys
            )
            lock, users = self._locks.get(key, (asyncio.Lock(), 0))
            self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
                async with self._room:
                    self._room.notify_all()
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
