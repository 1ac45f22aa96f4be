"""`VersionedStore` in memory, for handler tests: conflicts behave as in a KV bucket.

Revisions are one counter for the whole store (a bucket's stream sequence), values
are kept encoded (a record is decoded afresh on every load, as from KV), and an
invalid key reads as absent, as `shared.kv_reading.get_checked` does.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Generic, TypeVar

from shared.persistence.versioned import Codec, ConflictError, Versioned

R = TypeVar("R")

_KEY = re.compile(r"^[-/_=.a-zA-Z0-9]+$")  # KV's key rule (shared.kv_reading)


class InvalidKeyError(ValueError):
    """KV refuses to write this key (wildcards, spaces, empty)."""


class MemoryStore(Generic[R]):
    """Records by key with KV's create / update-at-revision rules."""

    def __init__(self, codec: Codec[R], *, include: Callable[[str], bool] = lambda _: True) -> None:
        self._codec = codec
        self._include = include
        self._values: dict[str, tuple[bytes, int]] = {}
        self._sequence = 0
        self.writes = 0  # successful creates and updates, for tests to count

    def key_of(self, record: R) -> str:
        """The key a record is stored under."""
        return self._codec.key_of(record)

    async def load(self, key: str) -> Versioned[R] | None:
        """The record and its revision; None when absent or not a valid key."""
        found = self._values.get(key) if _KEY.match(key) else None
        if found is None:
            return None
        value, revision = found
        return Versioned(key, self._codec.decode(value), revision)

    async def create(self, record: R) -> Versioned[R]:
        """Store a new record; ConflictError when its key exists already."""
        key = self._checked_key(record)
        if key in self._values:
            raise ConflictError(key)
        return self._put(key, record)

    async def update(self, record: R, revision: int) -> Versioned[R]:
        """Replace the record read at `revision`; ConflictError when it changed since."""
        key = self._checked_key(record)
        found = self._values.get(key)
        if found is None or found[1] != revision:
            raise ConflictError(key)
        return self._put(key, record)

    async def all(self) -> list[Versioned[R]]:
        """Every current record, in order of last write."""
        ordered = sorted(self._values.items(), key=lambda item: item[1][1])
        return [
            Versioned(key, self._codec.decode(value), revision)
            for key, (value, revision) in ordered
            if self._include(key)
        ]

    def _checked_key(self, record: R) -> str:
        key = self.key_of(record)
        if not _KEY.match(key):
            raise InvalidKeyError(f"invalid key {key!r}")
        return key

    def _put(self, key: str, record: R) -> Versioned[R]:
        self._sequence += 1
        self._values[key] = (self._codec.encode(record), self._sequence)
        self.writes += 1
        return Versioned(key, record, self._sequence)
