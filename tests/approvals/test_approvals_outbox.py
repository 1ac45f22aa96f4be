"""The outbox inside a record: staged events survive a round trip with their ids."""

from __future__ import annotations

from services.approvals import machine
from services.approvals.outbox import mark_published, rebuild, refusal_id, stage, unpublished
from services.approvals.record import RequestRecord
from tests.approvals.factories import NOW, device, later, profiles, submitted


def test_staged_events_rebuild_exactly_and_mark_the_cause_applied() -> None:
    step = machine.open_request(submitted(), profiles(), device(), NOW)
    assert step.record is not None
    record = stage(step.record, "01JDQ3F8ZK6W2M9V1T4B7N5C0X", step.events, NOW)
    stored = RequestRecord.model_validate_json(record.model_dump_json())

    [entry] = unpublished(stored)
    assert rebuild(entry) == step.events[0]
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
