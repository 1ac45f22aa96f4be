"""Publishing what a state change decided: the expiry timer, then the outbox events.

Each event goes out with the id fixed in the record, so a second flush (a
redelivery, another replica, a restart) is dropped by JetStream's duplicate
window. Only afterwards are the entries removed from the record.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Protocol

from services.grants import metrics
from services.grants.records import GrantRecord
from services.grants.store import GrantConflictError, GrantStore, Stored
from services.grants.transitions import published
from shared.contracts.events import Event

CAS_ATTEMPTS = 5

ScheduleExpiry = Callable[[str, datetime, int], Awaitable[None]]
"""(request_id, due_at, generation): (re)schedule the grant's expiry timer."""


class Announcer(Protocol):
    """Puts an event on the ACCESS stream (shared.publishing.EventPublisher)."""

    async def publish(
        self, event: Event, *, event_id: str | None = None, time: datetime | None = None
    ) -> object: ...


class Outbox:
    """Flushes a record's pending timer and events, then clears them by compare-and-set."""

    def __init__(
        self,
        store: GrantStore,
        announcer: Announcer,
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
        for entry in record.outbox:
            event = entry.event()
            await self._announcer.publish(event, event_id=entry.event_id, time=entry.time)
            metrics.announced(record, event)
        done = {entry.event_id for entry in record.outbox}
        await self._clear(stored, done, scheduled)

    async def _clear(self, stored: Stored, done: set[str], scheduled: int | None) -> None:
        current: Stored | None = stored
        for _ in range(CAS_ATTEMPTS):
            if current is None:
                return
            record: GrantRecord = published(
                current.record, event_ids=done, scheduled_generation=scheduled, now=self._now()
            )
            if record is current.record:
                return
            try:
                await self._store.update(record, current.revision)
            except GrantConflictError:
                current = await self._store.get(stored.record.request_id)
                continue
            return
        # Harmless: the entries stay and a later flush re-publishes them with the same ids.
