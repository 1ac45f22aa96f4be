"""A record with the revision it was read at, and the store port every service writes through.

KV changes a key only by compare-and-set: `create` when the key is absent, `update`
at the revision read. Losing that race raises `ConflictError`, the one conflict type
of every store (the NATS bucket and the in-memory fake alike).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, Protocol, TypeVar

from pydantic import BaseModel

R = TypeVar("R")
M = TypeVar("M", bound=BaseModel)


class ConflictError(Exception):
    """Someone else wrote the key first (or it exists already): read again, decide again."""

    def __init__(self, key: str) -> None:
        super().__init__(f"{key} changed since it was read")
        self.key = key


@dataclass(frozen=True, slots=True)
class Versioned(Generic[R]):
    """A record and the revision it was read (or written) at."""

    key: str
    record: R
    revision: int


class VersionedStore(Protocol[R]):
    """Records by key, written only by compare-and-set on the revision."""

    def key_of(self, record: R) -> str:
        """The key a record is stored under."""
        ...

    async def load(self, key: str) -> Versioned[R] | None:
        """The record and its revision; None when absent, deleted or not a valid key."""
        ...

    async def create(self, record: R) -> Versioned[R]:
        """Store a new record; ConflictError when its key exists already."""
        ...

    async def update(self, record: R, revision: int) -> Versioned[R]:
        """Replace the record read at `revision`; ConflictError when it changed since."""
        ...

    async def all(self) -> list[Versioned[R]]:
        """Every current record (deleted keys left out)."""
        ...


@dataclass(frozen=True, slots=True)
class Codec(Generic[R]):
    """How records become bytes in the bucket, and back, and which key each has."""

    encode: Callable[[R], bytes]
    decode: Callable[[bytes], R]
    key_of: Callable[[R], str]


def model_codec(
    model: type[M], key_of: Callable[[M], str], *, exclude_defaults: bool = False
) -> Codec[M]:
    """A pydantic model as JSON (`exclude_defaults`: smaller values, same meaning)."""

    def encode(record: M) -> bytes:
        return record.model_dump_json(exclude_defaults=exclude_defaults).encode()

    return Codec(encode=encode, decode=model.model_validate_json, key_of=key_of)
