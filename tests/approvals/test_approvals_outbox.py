"""The outbox inside a record: staged events survive a round trip with their ids."""

from __future__ import annotations

from services.approvals.domain import machine
from services.approvals.domain.outbox import (
    KEEP_PUBLISHED,
    mark_published,
    refusal_id,
    stage,
    unpublished,
)
from services.approvals.domain.record import RequestRecord
from shared.persistence.ledger import LEDGER_LIMIT
from tests.approvals.factories import NOW, device, later, profiles, submitted


def test_staged_events_rebuild_exactly_and_mark_the_cause_applied() -> None:
    step = machine.open_request(submitted(), profiles(), device(), NOW)
    assert step.record is not None
    record = stage(step.record, "01JDQ3F8ZK6W2M9V1T4B7N5C0X", step.events, NOW)
    stored = RequestRecord.model_validate_json(record.model_dump_json())

    [entry] = unpublished(stored)
    assert entry.event() == step.events[0]
    assert entry.time == NOW
    assert stored.applied == ["01JDQ3F8ZK6W2M9V1T4B7N5C0X"]
    assert unpublished(mark_published(stored, {entry.event_id})) == []


def test_each_staged_event_gets_its_own_id() -> None:
    step = machine.open_request(submitted(), profiles(), device(), NOW)
    assert step.record is not None
    twice = stage(stage(step.record, "a", step.events, NOW), "b", step.events, NOW)
    assert len({e.event_id for e in twice.outbox}) == 2


def test_a_refusal_id_follows_from_its_input() -> None:
    assert refusal_id(NOW, "x") == refusal_id(NOW, "x")
    assert refusal_id(NOW, "x") != refusal_id(NOW, "y")
    assert refusal_id(NOW, "x") != refusal_id(later(1), "x")


def test_applied_inputs_and_kept_published_entries_are_bounded() -> None:
    step = machine.open_request(submitted(), profiles(), device(), NOW)
    assert step.record is not None
    record = step.record
    for n in range(LEDGER_LIMIT + 1):
        record = stage(record, f"input-{n}", step.events, NOW)
    assert len(record.applied) == LEDGER_LIMIT  # the oldest input is forgotten first
    assert record.applied[0] == "input-1"
    done = mark_published(record, {e.event_id for e in record.outbox})
    assert len(done.outbox) == KEEP_PUBLISHED
    assert done.outbox[-1].event_id == record.outbox[-1].event_id
    assert unpublished(done) == []
