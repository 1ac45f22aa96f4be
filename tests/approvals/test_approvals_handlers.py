"""The handlers on in-memory ports (fast): outbox recovery, CAS re-application, idempotency.

The store is `shared.persistence.memory.MemoryStore`, held to the same contract as KV
(tests/shared/test_persistence_contract.py); what only a server proves (JetStream's
duplicate window) stays in test_approvals_app.py.
"""

from __future__ import annotations

import pytest

from services.approvals.domain.record import RequestStatus
from shared.contracts.events import ApprovalRequested, RequestApproved
from shared.contracts.subjects import Subject
from tests.approvals.factories import decision, submitted
from tests.approvals.fakes import FakeHarness, ListPublisher, StaleOnceStore, envelope


async def test_a_crash_before_publishing_is_recovered_on_redelivery() -> None:
    harness = FakeHarness()
    sub = envelope(submitted())
    crashing = harness.app(publisher=ListPublisher(crashes=1))
    with pytest.raises(ConnectionError):
        await crashing.on_submitted(sub)
    stored = await harness.store.load(sub.event.request_id)
    assert stored is not None
    [entry] = stored.record.outbox
    assert not entry.published
    assert harness.publisher.on(Subject.APPROVAL_REQUESTED) == []

    await harness.app().on_submitted(sub)  # the redelivery, maybe on another replica

    [(event_id, event)] = harness.publisher.on(Subject.APPROVAL_REQUESTED)
    assert event_id == entry.event_id
    assert isinstance(event, ApprovalRequested)
    after = await harness.store.load(sub.event.request_id)
    assert after is not None
    assert after.record.outbox[0].published
    assert [rid for rid, _ in harness.scheduled] == [sub.event.request_id] * 2


async def test_a_lost_compare_and_set_is_re_read_and_re_applied() -> None:
    harness = FakeHarness()
    sub = envelope(submitted(profile_id="prod-db"))
    app = harness.app()
    await app.on_submitted(sub)
    rid = sub.event.request_id
    before_alice = await harness.store.load(rid)
    assert before_alice is not None
    await app.on_decision(envelope(decision(rid, "alice@example.com")))

    racing_store = StaleOnceStore(harness.store, before_alice)
    await harness.app(store=racing_store).on_decision(envelope(decision(rid, "bob@example.com")))

    assert racing_store.conflicts == 1
    [(_, approved)] = harness.publisher.on(Subject.REQUEST_APPROVED)
    assert isinstance(approved, RequestApproved)
    assert [p.email for p in approved.approvers] == ["alice@example.com", "bob@example.com"]
    final = await harness.store.load(rid)
    assert final is not None
    assert final.record.status is RequestStatus.APPROVED


async def test_a_redelivered_decision_counts_once() -> None:
    harness = FakeHarness()
    sub = envelope(submitted(profile_id="prod-db"))
    app = harness.app()
    await app.on_submitted(sub)
    click = envelope(decision(sub.event.request_id, "alice@example.com"))
    await app.on_decision(click)
    await app.on_decision(click)

    stored = await harness.store.load(sub.event.request_id)
    assert stored is not None
    assert len(stored.record.votes) == 1
    assert stored.record.status is RequestStatus.PENDING
    assert harness.publisher.on(Subject.DECISION_REFUSED) == []
