"""`VersionedStore` on a NATS KV bucket.

Reads go through `shared.kv_reading` (no consumer; a record stored by a JetStream API
answer raises ForgedEntryError); writes are KV's own create / update with the last
revision, whose lost race becomes `ConflictError`.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from shared.kv_reading import get_checked, latest
from shared.leaderless import with_patience
from shared.persistence.versioned import Codec, ConflictError, Versioned

R = TypeVar("R")


class KvStore(Generic[R]):
    """Records of one kind in one bucket (`include`: which keys `all` returns)."""

    def __init__(
        self,
        kv: KeyValue,
        codec: Codec[R],
        *,
        include: Callable[[str], bool] = lambda _: True,
        patience: float = 0.0,
    ) -> None:
        self._kv = kv
        self._codec = codec
        self._include = include
        # Seconds a write nobody answered (a cluster electing the bucket's leader) is sent
        # again; one that did land then reads as a lost race (ConflictError).
        self._patience = patience

    async def _write(self, write: Callable[[], Awaitable[int]]) -> int:
        return await with_patience(write, self._patience)

    def key_of(self, record: R) -> str:
        """The key a record is stored under."""
        return self._codec.key_of(record)

    async def load(self, key: str) -> Versioned[R] | None:
        """The record and its revision; None when absent (ForgedEntryError: forged)."""
        found = await get_checked(self._kv, key)
        if found is None:
            return None
        value, revision = found
        return Versioned(key, self._codec.decode(value), revision)

    async def create(self, record: R) -> Versioned[R]:
        """Store a new record; ConflictError when its key exists already."""
        key = self.key_of(record)
        try:
            data = self._codec.encode(record)
            revision = await self._write(lambda: self._kv.create(key, data))
        except KeyWrongLastSequenceError:
            raise ConflictError(key) from None
        return Versioned(key, record, revision)

    async def update(self, record: R, revision: int) -> Versioned[R]:
        """Replace the record read at `revision`; ConflictError when it changed since."""
        key = self.key_of(record)
        try:
            data = self._codec.encode(record)
            new_revision = await self._write(lambda: self._kv.update(key, data, last=revision))
        except KeyWrongLastSequenceError:
            raise ConflictError(key) from None
        return Versioned(key, record, new_revision)

    async def all(self) -> list[Versioned[R]]:
        """Every current record, read without a consumer (sweeps, gauges)."""
        current, _ = await latest(self._kv)
        return [
            Versioned(key, self._codec.decode(change.value), change.revision)
            for key, change in current.items()
            if change.value is not None and self._include(key)
        ]
