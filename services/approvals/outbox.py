"""The outbox inside a request record: events are stored with their ids before publishing.

A crash between storing a state change and publishing its events loses nothing:
whoever next handles the request (the redelivered input, usually) publishes what
is still unpublished, with the same event ids, and JetStream drops duplicates.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.approvals.record import OutboxEntry, RequestRecord
from shared.contracts.events import EVENT_TYPES, Event
from shared.ids import deterministic_id, new_id


def stage(
    record: RequestRecord, cause: str, events: Sequence[Event], now: datetime
) -> RequestRecord:
    """The record with `cause` marked applied and its events queued under fresh ids."""
    entries = [
        OutboxEntry(
            event_id=new_id(),
            subject=event.SUBJECT,
            body=event.model_dump(mode="json"),
            time=now,
            cause=cause,
        )
        for event in events
    ]
    return record.model_copy(
        update={"outbox": [*record.outbox, *entries], "applied": [*record.applied, cause]}
    )


def unpublished(record: RequestRecord) -> list[OutboxEntry]:
    """Entries still to publish, oldest first."""
    return [e for e in record.outbox if not e.published]


def mark_published(record: RequestRecord, event_ids: set[str]) -> RequestRecord:
    """The record with these entries marked published."""
    outbox = [
        e.model_copy(update={"published": True}) if e.event_id in event_ids else e
        for e in record.outbox
    ]
    return record.model_copy(update={"outbox": outbox})


def rebuild(entry: OutboxEntry) -> Event:
    """The event an entry holds, validated again."""
    return EVENT_TYPES[entry.subject].model_validate(entry.body)


def refusal_id(input_time: datetime, input_id: str) -> str:
    """A refusal's event id follows from its input's, so a redelivery repeats the same id."""
    return deterministic_id(input_time, f"refusal:{input_id}")
