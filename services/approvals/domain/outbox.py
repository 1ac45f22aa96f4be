"""The request record's outbox and applied inputs, on the shared outbox lifecycle.

A crash between storing a state change and publishing its events loses nothing:
whoever next handles the request (the redelivered input, usually) publishes what
is still unpublished, with the same event ids, and JetStream drops duplicates.
Published entries stay in the record (at most KEEP_PUBLISHED) for inspection.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from services.approvals.domain.record import RequestRecord
from shared.contracts.events import Event
from shared.ids import deterministic_id
from shared.persistence import ledger
from shared.persistence import outbox as kit
from shared.persistence.outbox import OutboxEntry

KEEP_PUBLISHED = kit.KEEP_PUBLISHED


def stage(
    record: RequestRecord, cause: str, events: Sequence[Event], now: datetime
) -> RequestRecord:
    """The record with `cause` marked applied and its events queued under fresh ids."""
    return record.model_copy(
        update={
            "outbox": kit.stage(record.outbox, events, now=now, cause=cause),
            "applied": ledger.remember(record.applied, cause),
        }
    )


def unpublished(record: RequestRecord) -> list[OutboxEntry]:
    """Entries still to publish, oldest first."""
    return kit.pending(record.outbox)


def mark_published(record: RequestRecord, event_ids: set[str]) -> RequestRecord:
    """The record with these entries marked published (the oldest published beyond
    KEEP_PUBLISHED leave it)."""
    return record.model_copy(
        update={"outbox": kit.retain(record.outbox, event_ids, keep=KEEP_PUBLISHED)}
    )


def refusal_id(input_time: datetime, input_id: str) -> str:
    """A refusal's event id follows from its input's, so a redelivery repeats the same id."""
    return deterministic_id(input_time, f"refusal:{input_id}")
