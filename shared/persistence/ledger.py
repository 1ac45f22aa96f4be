"""Bounded memories of what was already handled (idempotency ledgers).

- `remember`: a ledger kept inside a record (the inputs a request record applied, the
  events a notifier record handled): the newest `limit` ids, oldest forgotten first.
  Forgetting is safe because each service also decides from state (a decided request
  refuses a late vote; a redelivered event past the limit repeats only idempotent work)
  and JetStream's duplicate window drops re-published ids.
- `RecentKeys`: an in-process ledger with expiry and a size limit (LRU by insertion).
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

V = TypeVar("V")

LEDGER_LIMIT = 500  # ids per record: far above a real request's lifecycle


def remember(ledger: Sequence[str], entry: str, *, limit: int = LEDGER_LIMIT) -> list[str]:
    """The ledger with `entry` added (no-op when known), the oldest dropped past `limit`."""
    if entry in ledger:
        return list(ledger)
    return [*ledger, entry][-limit:]


class RecentKeys(Generic[V]):
    """Key -> value for `ttl` seconds, at most `max_size` keys (the oldest go first)."""

    def __init__(
        self, *, ttl: float, max_size: int, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if max_size < 1:
            raise ValueError("max_size must be at least 1")
        self._ttl = ttl
        self._max_size = max_size
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._entries)

    def get(self, key: str) -> V | None:
        """The value remembered under `key`, if it has not expired."""
        self._expire()
        found = self._entries.get(key)
        return found[1] if found is not None else None

    def add(self, key: str, value: V) -> None:
        """Remember `value` under `key` (making room by forgetting the oldest)."""
        self._expire()
        self._entries.pop(key, None)
        while len(self._entries) >= self._max_size:
            self._entries.popitem(last=False)
        self._entries[key] = (self._clock() + self._ttl, value)

    def pop(self, key: str) -> V | None:
        """Forget `key`; its value, if it had one."""
        found = self._entries.pop(key, None)
        return found[1] if found is not None else None

    def _expire(self) -> None:
        now = self._clock()
        while self._entries:
            expires, _ = next(iter(self._entries.values()))
            if expires > now:
                return
            self._entries.popitem(last=False)
