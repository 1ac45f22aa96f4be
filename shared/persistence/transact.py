"""Read -> decide -> compare-and-set, the one loop every service changes a record with.

`decide` is pure: it gets the stored version (None: no record yet) and returns what
to write (None: nothing) and an outcome for the caller to act on once the write
stands. A lost race reads again and decides again; after `attempts` lost races in
a row, `TooManyConflictsError` asks for a redelivery later (shared.retry).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

import structlog

from shared.persistence.versioned import ConflictError, Versioned, VersionedStore
from shared.retry import CONFLICT_ATTEMPTS, CONFLICT_RETRY_DELAY, RetryLaterError

R = TypeVar("R")
T = TypeVar("T")

log = structlog.get_logger("accessbot.persistence")


class TooManyConflictsError(RetryLaterError):
    """Other writers won every compare-and-set of the allowed attempts."""

    def __init__(self, key: str, attempts: int) -> None:
        super().__init__(
            f"{attempts} compare-and-set conflicts in a row on {key}", delay=CONFLICT_RETRY_DELAY
        )
        self.key = key


@dataclass(frozen=True, slots=True)
class Decision(Generic[R, T]):
    """What to store (None: leave the record as it is), and what the caller does next."""

    write: R | None
    outcome: T


@dataclass(frozen=True, slots=True)
class Transacted(Generic[R, T]):
    """The version decided on, the version written (None: nothing was), and the outcome."""

    before: Versioned[R] | None
    written: Versioned[R] | None
    outcome: T

    @property
    def latest(self) -> Versioned[R] | None:
        """The version stored now, as far as this caller knows."""
        return self.written if self.written is not None else self.before


class _Unread:
    pass


UNREAD = _Unread()


async def transact(
    store: VersionedStore[R],
    key: str,
    decide: Callable[[Versioned[R] | None], Decision[R, T]],
    *,
    current: Versioned[R] | _Unread | None = UNREAD,
    attempts: int = CONFLICT_ATTEMPTS,
) -> Transacted[R, T]:
    """Decide on the stored record and write the result by compare-and-set.

    `current`: a version the caller has just read, decided on first (saves a read).
    A `write` whose record equals the stored one is not written.
    """
    stored = await store.load(key) if isinstance(current, _Unread) else current
    for attempt in range(1, attempts + 1):
        decision = decide(stored)
        change = decision.write
        if change is None or (stored is not None and change == stored.record):
            return Transacted(stored, None, decision.outcome)
        try:
            if stored is None:
                written = await store.create(change)
            else:
                written = await store.update(change, stored.revision)
        except ConflictError:
            log.info("store.cas_conflict", key=key, attempt=attempt)
            stored = await store.load(key)
            continue
        return Transacted(stored, written, decision.outcome)
    raise TooManyConflictsError(key, attempts)
