"""The grant state machine, without a broker: decisions, changes, and the outbox."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.grants.domain import transitions
from services.grants.domain.records import ExpireOp, Failure, GrantRecord, GrantStatus, RevokeOp
from services.grants.domain.transitions import InvalidTransitionError, Step
from shared.contracts.events import (
    ApprovalMode,
    DeviceSnapshot,
    GrantApplied,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
    Person,
    RefusalReason,
    RequestApproved,
)
from shared.contracts.subjects import Subject
from shared.ids import new_id

T0 = datetime(2026, 11, 30, 9, 0, 0, 250_000, tzinfo=UTC)
LEASE = 30.0
CAROL = Person(email="carol@example.com")
ALICE = Person(email="alice@example.com")


def approved(duration: int = 3600) -> RequestApproved:
    return RequestApproved(
        request_id=new_id(),
        requester=CAROL,
        profile_id="prod",
        device=DeviceSnapshot(node_id="nABC123CNTRL", name="laptop.ts.net", hostname="laptop"),
        attribute="custom:prodAccess",
        value=True,
        duration_seconds=duration,
        reason="INC-1",
        approvers=[ALICE],
        mode=ApprovalMode.QUORUM,
        approved_at=T0,
    )


def claimed(duration: int = 3600) -> GrantRecord:
    return transitions.new_grant(approved(duration), comment="c", now=T0, lease_seconds=LEASE)


def active(duration: int = 3600) -> GrantRecord:
    return transitions.published(
        transitions.applied(claimed(duration), now=T0),
        event_ids=set(),
        scheduled_generation=None,
        now=T0,
    )


def test_claim_computes_expiry_now_in_whole_seconds_and_leases_the_apply():
    record = claimed(60)
    assert record.status is GrantStatus.APPLYING
    assert record.expires_at == datetime(2026, 11, 30, 9, 1, 1, tzinfo=UTC)
    assert record.op is not None
    assert record.op.kind == "apply"
    assert record.op.lease_until == T0 + timedelta(seconds=LEASE)
    assert record.device_id == "nABC123CNTRL"


def test_apply_steps():
    record = claimed()
    assert transitions.step_for_apply(None, T0) is Step.START
    assert transitions.step_for_apply(record, T0) is Step.BUSY
    assert transitions.step_for_apply(record, T0 + timedelta(seconds=LEASE)) is Step.RESUME
    assert transitions.step_for_apply(transitions.release(record, now=T0), T0) is Step.RESUME
    assert transitions.step_for_apply(active(), T0) is Step.DONE


def test_applied_fixes_the_event_id_before_publishing_and_asks_for_the_timer():
    record = transitions.applied(claimed(), now=T0)
    assert record.status is GrantStatus.ACTIVE
    assert record.op is None
    assert record.timer_pending
    [entry] = record.outbox
    assert entry.subject is Subject.GRANT_APPLIED
    assert record.event_ids["applied"] == entry.event_id
    event = entry.event()
    assert isinstance(event, GrantApplied)
    assert event.expires_at == record.expires_at


def test_published_clears_only_what_went_out():
    record = transitions.applied(claimed(), now=T0)
    still = transitions.published(record, event_ids=set(), scheduled_generation=None, now=T0)
    assert still is record
    done = transitions.published(
        record, event_ids={record.outbox[0].event_id}, scheduled_generation=0, now=T0
    )
    assert done.outbox == []
    assert not done.timer_pending
    stale_timer = transitions.published(record, event_ids=set(), scheduled_generation=7, now=T0)
    assert stale_timer.timer_pending


def test_apply_failure_is_announced_with_the_reason():
    failure = Failure(
        error_code="tailscale_rejected", message="Tailscale answered 400", status_code=400
    )
    record = transitions.apply_failed(claimed(), failure, now=T0)
    assert record.status is GrantStatus.FAILED
    event = record.outbox[0].event()
    assert isinstance(event, GrantFailed)
    assert (event.error_code, event.status_code, event.extension_id) == (
        "tailscale_rejected",
        400,
        None,
    )


def test_extension_moves_expiry_and_timer_generation():
    record = active()
    ext = new_id()
    assert transitions.step_for_extension(record, ext, T0) is Step.START
    extending = transitions.begin_extension(
        record, extension_id=ext, additional_seconds=1800, comment="x", now=T0, lease_seconds=LEASE
    )
    assert transitions.step_for_extension(extending, ext, T0) is Step.BUSY
    assert transitions.step_for_extension(extending, new_id(), T0) is Step.BUSY
    done = transitions.extended(extending, now=T0)
    assert done.status is GrantStatus.ACTIVE
    assert done.expires_at == record.expires_at + timedelta(seconds=1800)
    assert done.generation == record.generation + 1
    assert done.timer_pending
    event = done.outbox[-1].event()
    assert isinstance(event, GrantExtended)
    assert event.previous_expires_at == record.expires_at
    assert transitions.step_for_extension(done, ext, T0) is Step.DONE


def test_extension_of_an_ended_grant_is_refused_and_remembered():
    failure = Failure(error_code="not_active", message="no")
    ended = transitions.apply_failed(claimed(), failure, now=T0)
    ext = new_id()
    assert transitions.step_for_extension(None, ext, T0) is Step.REFUSE
    assert transitions.step_for_extension(ended, ext, T0) is Step.REFUSE
    refused = transitions.extension_failed(ended, ext, failure, now=T0)
    assert refused.status is GrantStatus.FAILED
    assert refused.extensions[ext].outcome == "failed"
    assert isinstance(refused.outbox[-1].event(), GrantFailed)
    assert transitions.step_for_extension(refused, ext, T0) is Step.DONE


def test_revoke_steps():
    record = active()
    click = new_id()
    assert transitions.step_for_revoke(None, click, allowed=True, now=T0) == (
        Step.REFUSE,
        RefusalReason.NOT_ACTIVE,
    )
    assert transitions.step_for_revoke(record, click, allowed=False, now=T0) == (
        Step.REFUSE,
        RefusalReason.NOT_ELIGIBLE,
    )
    assert transitions.step_for_revoke(record, click, allowed=True, now=T0) == (Step.START, None)
    revoking = transitions.begin_revoke(
        record, source_event_id=click, actor=ALICE, reason="done", now=T0, lease_seconds=LEASE
    )
    assert transitions.step_for_revoke(revoking, click, allowed=True, now=T0) == (Step.BUSY, None)
    assert transitions.step_for_revoke(revoking, new_id(), allowed=True, now=T0) == (
        Step.BUSY,
        None,
    )
    gone = transitions.revoked(revoking, now=T0)
    assert gone.status is GrantStatus.REVOKED
    assert gone.revoked_by == ALICE
    event = gone.outbox[-1].event()
    assert isinstance(event, GrantRevoked)
    assert (event.revoked_by, event.reason) == (ALICE, "done")
    assert transitions.step_for_revoke(gone, click, allowed=True, now=T0) == (Step.DONE, None)
    assert transitions.step_for_revoke(gone, new_id(), allowed=True, now=T0) == (
        Step.REFUSE,
        RefusalReason.NOT_ACTIVE,
    )


def test_expiry_only_for_the_current_generation_once_due():
    record = active(60)
    due = record.expires_at
    late = due + timedelta(seconds=1)
    assert transitions.step_for_expiry(None, generation=0, due_at=due, now=late) is Step.IGNORE
    assert transitions.step_for_expiry(record, generation=1, due_at=due, now=late) is Step.IGNORE
    assert transitions.step_for_expiry(record, generation=0, due_at=due, now=T0) is Step.BUSY
    assert transitions.step_for_expiry(record, generation=0, due_at=due, now=late) is Step.START
    expiring = transitions.begin_expiry(record, now=late, lease_seconds=LEASE)
    assert isinstance(expiring.op, ExpireOp)
    assert transitions.step_for_expiry(expiring, generation=0, due_at=due, now=late) is Step.BUSY
    gone = transitions.expired(expiring, now=late)
    assert isinstance(gone.outbox[-1].event(), GrantExpired)
    assert transitions.step_for_expiry(gone, generation=0, due_at=due, now=late) is Step.DONE


def test_a_timer_during_an_extension_waits_then_is_stale():
    record = active(60)
    due, late = record.expires_at, record.expires_at + timedelta(seconds=1)
    extending = transitions.begin_extension(
        record,
        extension_id=new_id(),
        additional_seconds=60,
        comment="x",
        now=T0,
        lease_seconds=LEASE,
    )
    assert transitions.step_for_expiry(extending, generation=0, due_at=due, now=late) is Step.BUSY
    moved = transitions.extended(extending, now=T0)
    assert transitions.step_for_expiry(moved, generation=0, due_at=due, now=late) is Step.IGNORE


def test_revoked_grant_ignores_its_timer():
    record = active(60)
    revoking = transitions.begin_revoke(
        record, source_event_id=new_id(), actor=CAROL, reason=None, now=T0, lease_seconds=LEASE
    )
    assert isinstance(revoking.op, RevokeOp)
    gone = transitions.revoked(revoking, now=T0)
    late = record.expires_at + timedelta(seconds=5)
    assert transitions.step_for_expiry(gone, generation=0, due_at=record.expires_at, now=late) is (
        Step.IGNORE
    )


@pytest.mark.parametrize(
    "change",
    [
        lambda r: transitions.applied(r, now=T0),
        lambda r: transitions.begin_expiry(r, now=T0, lease_seconds=LEASE),
        lambda r: transitions.revoked(r, now=T0),
        lambda r: transitions.extended(r, now=T0),
    ],
)
def test_ended_grants_do_not_move(change):
    gone = transitions.expired(
        transitions.begin_expiry(active(), now=T0, lease_seconds=LEASE), now=T0
    )
    with pytest.raises(InvalidTransitionError):
        change(gone)


def test_a_resumed_apply_that_never_reached_tailscale_counts_from_now():
    record = claimed(60)
    later = T0 + timedelta(minutes=5)
    assert transitions.recomputed_expiry(record, now=later).expires_at == (
        transitions.whole_second_ceiling(later) + timedelta(seconds=60)
    )
