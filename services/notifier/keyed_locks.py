"""One asyncio lock per key, dropped when nobody holds or waits for it.

Each subject has its own consumer, so two events of one request can be handled at
the same time in one process; serialising them per request keeps both from
posting the same missing message. Across replicas the KV compare-and-set keeps
the record consistent, but two replicas racing on the same missing message can
still both post it: a narrow window, accepted rather than a distributed lock.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager


class KeyedLocks:
    """`async with locks.hold(key):` runs one holder per key at a time."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        """Hold the key's lock for the duration of the block."""
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)
