"""The outbox kept inside a record: events stored with their ids before they are published.

One lifecycle for every service:
- stage: an event decided with a state change is stored in the same compare-and-set,
  its id fixed (and the input that caused it, where the record keeps one);
- flush: every pending entry is published with its stored id and time (JetStream's
  duplicate window drops a second flush after a crash or by another replica);
- retain: published entries are marked, and a record keeps at most `keep` of them
  (the newest) for inspection; the rest leave the record, so it stays bounded.

An event is validated when it is built and serialised once, when staged: the flush
publishes the stored body as it is (`encoded`), without validating it again.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

import pydantic_core
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.events import EVENT_TYPES, Event
from shared.ids import new_id
from shared.subjects import Subject

KEEP_PUBLISHED = 100  # published entries a record keeps for inspection, newest first


class OutboxEntry(BaseModel):
    """An event decided with a state change, published after it (same id on every retry)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    event_id: str
    subject: Subject
    body: dict[str, Any]
    time: AwareDatetime
    cause: str | None = Field(
        default=None, description="The input (event id or timer key) that produced it."
    )
    published: bool = False

    @classmethod
    def of(
        cls, event: Event, *, time: datetime, event_id: str | None = None, cause: str | None = None
    ) -> OutboxEntry:
        """Serialise a (validated) event for the outbox, under a fresh id unless one is given."""
        return cls(
            event_id=event_id or new_id(),
            subject=event.SUBJECT,
            body=event.model_dump(mode="json"),
            time=time,
            cause=cause,
        )

    @property
    def request_id(self) -> str:
        """The request the event is about (its CloudEvents subject)."""
        return str(self.body["request_id"])

    def encoded(self) -> bytes:
        """The body as published: the same bytes `Event.model_dump_json` gives."""
        return pydantic_core.to_json(self.body)

    def event(self) -> Event:
        """The event again, validated as its subject's model (for reading, not publishing)."""
        return EVENT_TYPES[self.subject].model_validate(self.body)


class EntryPublisher(Protocol):
    """Publishes a stored entry as it is (shared.publishing.EventPublisher)."""

    async def publish_entry(self, entry: OutboxEntry) -> object:
        """Put the entry's event on the stream under its id and time."""
        ...


def stage(
    outbox: Sequence[OutboxEntry],
    events: Iterable[Event],
    *,
    now: datetime,
    cause: str | None = None,
) -> list[OutboxEntry]:
    """The outbox with these events appended under fresh ids."""
    return [*outbox, *(OutboxEntry.of(event, time=now, cause=cause) for event in events)]


def pending(outbox: Iterable[OutboxEntry]) -> list[OutboxEntry]:
    """Entries still to publish, oldest first."""
    return [entry for entry in outbox if not entry.published]


async def flush(entries: Iterable[OutboxEntry], publisher: EntryPublisher) -> set[str]:
    """Publish these entries in order; the ids that went out (raises on the first failure)."""
    done: set[str] = set()
    for entry in entries:
        await publisher.publish_entry(entry)
        done.add(entry.event_id)
    return done


def retain(
    outbox: Sequence[OutboxEntry], published_ids: set[str], *, keep: int
) -> list[OutboxEntry]:
    """The outbox with these entries marked published, keeping the newest `keep` published."""
    marked = [
        entry.model_copy(update={"published": True})
        if entry.event_id in published_ids and not entry.published
        else entry
        for entry in outbox
    ]
    surplus = sum(entry.published for entry in marked) - keep
    if surplus <= 0:
        return marked
    kept: list[OutboxEntry] = []
    for entry in marked:
        if entry.published and surplus > 0:
            surplus -= 1
            continue
        kept.append(entry)
    return kept
