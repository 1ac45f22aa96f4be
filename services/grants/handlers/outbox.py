"""Publishing what a state change decided: the expiry timer, then the outbox events.

Each event goes out with the id fixed in the record, so a second flush (a
redelivery, another replica, a restart) is dropped by JetStream's duplicate
window. Only afterwards are the entries removed from the record (the shared
outbox lifecycle with nothing kept: the record names its events in `event_ids`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from services.grants import metrics
from services.grants.domain.records import GrantRecord
from services.grants.domain.transitions import published
from services.grants.ports import GrantStore, Stored
from shared.persistence import outbox as kit
from shared.persistence.transact import Decision, TooManyConflictsError, transact

ScheduleExpiry = Callable[[str, datetime, int], Awaitable[None]]
"""(request_id, due_at, generation): (re)schedule the grant's expiry timer."""


class Outbox:
    """Flushes a record's pending timer and events, then clears them by compare-and-set."""

    def __init__(
        self,
        store: GrantStore,
        announcer: kit.EntryPublisher,
        schedule_expiry: ScheduleExpiry,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._store = store
        self._announcer = announcer
        self._schedule = schedule_expiry
        self._now = now

    async def flush(self, stored: Stored) -> None:
        """Publish everything pending in `stored`; safe to run twice."""
        record = stored.record
        if not record.outbox and not record.timer_pending:
            return
        scheduled: int | None = None
        if record.timer_pending:
            await self._schedule(record.request_id, record.expires_at, record.generation)
            scheduled = record.generation
        done = await kit.flush(record.outbox, self._announcer)
        for entry in record.outbox:
            metrics.announced(record, entry)

        def clear(current: Stored | None) -> Decision[GrantRecord, None]:
            if current is None:
                return Decision(None, None)
            cleared = published(
                current.record, event_ids=done, scheduled_generation=scheduled, now=self._now()
            )
            return Decision(None if cleared is current.record else cleared, None)

        # Losing every race is harmless: the entries stay, a later flush re-publishes them.
        with contextlib.suppress(TooManyConflictsError):
            await transact(self._store, record.request_id, clear, current=stored)
