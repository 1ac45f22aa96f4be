"""Every transition and refusal of the request state machine, without a broker."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.approvals.domain import machine
from services.approvals.domain.record import RequestRecord, RequestStatus
from services.approvals.domain.step import Step
from shared.contracts.events import (
    ApprovalCounted,
    ApprovalMode,
    ApprovalRequested,
    Decision,
    RefusalReason,
    RequestApproved,
    RequestCancelled,
    RequestDenied,
    RequestExpired,
    RequestRejected,
)
from shared.profiles import ProfilesConfig
from tests.approvals.factories import (
    NOW,
    REQUESTER,
    cancel,
    decision,
    device,
    later,
    person,
    profiles,
    submitted,
)


def opened(**overrides: object) -> Step:
    sub = submitted(**overrides)
    return machine.open_request(sub, profiles(), device(), NOW)


def pending(**overrides: object) -> RequestRecord:
    step = opened(**overrides)
    assert step.record is not None
    assert step.record.status is RequestStatus.PENDING
    return step.record


def record_of(step: Step) -> RequestRecord:
    assert step.record is not None
    return step.record


# --- opening ---------------------------------------------------------------------


def test_a_valid_submission_asks_every_eligible_approver_until_the_ttl() -> None:
    step = opened()
    record = record_of(step)
    [event] = step.events
    assert isinstance(event, ApprovalRequested)
    assert [p.email for p in event.approvers] == ["alice@example.com", "bob@example.com"]
    assert event.approvals_required == 1
    assert event.expires_at == NOW + timedelta(hours=1)
    assert event.device == device()
    assert record.status is RequestStatus.PENDING
    assert record.next_timer() == event.expires_at


def test_a_chosen_approver_alone_is_asked_when_one_approval_suffices() -> None:
    [event] = opened(approver_email="Bob@Example.com").events
    assert isinstance(event, ApprovalRequested)
    assert [p.email for p in event.approvers] == ["bob@example.com"]


def test_every_eligible_approver_is_asked_when_a_quorum_is_needed() -> None:
    [event] = opened(profile_id="prod-db", approver_email="bob@example.com").events
    assert isinstance(event, ApprovalRequested)
    assert len(event.approvers) == 3
    assert event.approvals_required == 2


def test_the_requester_is_not_eligible_without_self_approval() -> None:
    sub = submitted(profile_id="prod-db", requester=person("alice@example.com"))
    step = machine.open_request(sub, profiles(), device(owner="alice@example.com"), NOW)
    [event] = step.events
    assert isinstance(event, ApprovalRequested)
    assert {p.email for p in event.approvers} == {"bob@example.com", "carol@example.com"}


def test_self_approval_allowed_and_chosen_approves_at_once() -> None:
    step = opened(profile_id="staging", approver_email="dave@example.com")
    [event] = step.events
    assert isinstance(event, RequestApproved)
    assert event.mode is ApprovalMode.SELF
    assert event.approvers == [REQUESTER]
    assert event.attribute == "custom:stagingAccess"
    assert event.value is True
    assert event.device == device()
    assert record_of(step).status is RequestStatus.APPROVED
    assert record_of(step).next_timer() is None


def test_self_approval_allowed_but_another_approver_chosen_asks_them() -> None:
    [event] = opened(profile_id="staging", approver_email="bob@example.com").events
    assert isinstance(event, ApprovalRequested)
    assert [p.email for p in event.approvers] == ["bob@example.com"]


def test_break_glass_is_approved_at_once_by_the_requester() -> None:
    [event] = opened(profile_id="break-glass", duration_seconds=1800).events
    assert isinstance(event, RequestApproved)
    assert event.mode is ApprovalMode.BREAK_GLASS
    assert event.approvers == [REQUESTER]
    assert event.attribute == "custom:breakGlass"


def test_auto_approve_rule_matches_requester_and_duration() -> None:
    oncall = person("oncall@example.com")
    sub = submitted(requester=oncall, duration_seconds=3600)
    step = machine.open_request(sub, profiles(), device(owner="oncall@example.com"), NOW)
    [event] = step.events
    assert isinstance(event, RequestApproved)
    assert event.mode is ApprovalMode.AUTO
    assert event.approvers == []


def test_auto_approve_does_not_cover_a_longer_duration() -> None:
    oncall = person("oncall@example.com")
    sub = submitted(requester=oncall, duration_seconds=3601)
    step = machine.open_request(sub, profiles(), device(owner="oncall@example.com"), NOW)
    assert isinstance(step.events[0], ApprovalRequested)


def test_confirm_asks_the_requester_like_an_approver() -> None:
    [event] = opened(profile_id="confirm").events
    assert isinstance(event, ApprovalRequested)
    assert [p.email for p in event.approvers] == ["alice@example.com", "dave@example.com"]
    assert REQUESTER in event.approvers


def test_an_invalid_submission_is_rejected_and_stored_as_rejected() -> None:
    step = machine.open_request(submitted(profile_id="nope"), profiles(), None, NOW)
    [event] = step.events
    assert isinstance(event, RequestRejected)
    assert {p.field for p in event.problems} == {"profile", "device"}
    record = record_of(step)
    assert record.status is RequestStatus.REJECTED
    assert record.problems == event.problems
    assert record.next_timer() is None


# --- decisions ---------------------------------------------------------------------


def test_one_eligible_approval_approves_with_quorum_mode() -> None:
    record = pending()
    step = machine.decide(
        record, decision(record.request_id, "ALICE@example.com"), profiles(), later(60)
    )
    [event] = step.events
    assert isinstance(event, RequestApproved)
    assert event.mode is ApprovalMode.QUORUM
    assert event.approvers == [person("ALICE@example.com")]  # as Slack reported the clicker
    assert event.approved_at == later(60)
    assert record_of(step).status is RequestStatus.APPROVED


def test_a_quorum_needs_distinct_approvers() -> None:
    record = pending(profile_id="prod-db")
    first = machine.decide(
        record, decision(record.request_id, "alice@example.com"), profiles(), NOW
    )
    [counted] = first.events  # counted, not deciding: the notifier shows "1 of 2"
    assert isinstance(counted, ApprovalCounted)
    assert counted.approver.email == "alice@example.com"
    assert [p.email for p in counted.approvals] == ["alice@example.com"]
    assert counted.approvals_required == 2
    assert counted.extension_id is None
    after_first = record_of(first)
    assert after_first.status is RequestStatus.PENDING
    again = machine.decide(
        after_first, decision(record.request_id, "Alice@example.com"), profiles(), NOW
    )
    assert again.record is None
    assert again.refusal is not None
    assert again.refusal.code is RefusalReason.ALREADY_DECIDED
    second = machine.decide(
        after_first, decision(record.request_id, "carol@example.com"), profiles(), NOW
    )
    [event] = second.events
    assert isinstance(event, RequestApproved)
    assert [p.email for p in event.approvers] == ["alice@example.com", "carol@example.com"]


def test_one_eligible_deny_denies_with_its_reason() -> None:
    record = pending(profile_id="prod-db")
    approved_once = record_of(
        machine.decide(record, decision(record.request_id, "alice@example.com"), profiles(), NOW)
    )
    step = machine.decide(
        approved_once,
        decision(record.request_id, "bob@example.com", Decision.DENY, reason="Not now"),
        profiles(),
        NOW,
    )
    [event] = step.events
    assert isinstance(event, RequestDenied)
    assert event.denied_by == person("bob@example.com")
    assert event.reason == "Not now"
    assert record_of(step).status is RequestStatus.DENIED


@pytest.mark.parametrize(
    ("email", "code"),
    [
        ("mallory@example.com", RefusalReason.NOT_ELIGIBLE),
        ("dave@example.com", RefusalReason.SELF_APPROVAL_NOT_ALLOWED),
    ],
)
def test_clicks_that_do_not_count_are_refused(email: str, code: RefusalReason) -> None:
    record = pending()
    step = machine.decide(record, decision(record.request_id, email), profiles(), NOW)
    assert step.record is None
    assert step.events == ()
    assert step.refusal is not None
    assert step.refusal.code is code
    assert step.refusal.action == "approve"
    assert step.refusal.actor == person(email)


def test_a_decision_on_an_unknown_request_is_refused() -> None:
    step = machine.decide(
        None, decision(submitted().request_id, "alice@example.com"), profiles(), NOW
    )
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.UNKNOWN_REQUEST


@pytest.mark.parametrize("choice", [Decision.APPROVE, Decision.DENY])
def test_a_decision_after_the_outcome_is_refused_as_not_pending(choice: Decision) -> None:
    record = pending()
    approved = record_of(
        machine.decide(record, decision(record.request_id, "alice@example.com"), profiles(), NOW)
    )
    step = machine.decide(
        approved, decision(record.request_id, "bob@example.com", choice), profiles(), NOW
    )
    assert step.record is None
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.NOT_PENDING
    assert step.refusal.action == choice.value
    assert "approved" in step.refusal.message


def test_confirm_counts_the_requesters_own_approval() -> None:
    record = pending(profile_id="confirm")
    step = machine.decide(record, decision(record.request_id, "dave@example.com"), profiles(), NOW)
    [event] = step.events
    assert isinstance(event, RequestApproved)
    assert event.approvers == [person("dave@example.com")]


def test_a_requester_who_is_not_a_listed_approver_cannot_confirm() -> None:
    record = pending(profile_id="confirm", requester=person("erin@example.com"))
    assert [p.email for p in record.asked] == ["alice@example.com", "dave@example.com"]
    step = machine.decide(record, decision(record.request_id, "erin@example.com"), profiles(), NOW)
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.NOT_ELIGIBLE


def test_allowed_self_approval_counts_the_requesters_click_too() -> None:
    record = pending(profile_id="staging", approver_email="bob@example.com")
    step = machine.decide(record, decision(record.request_id, "dave@example.com"), profiles(), NOW)
    assert isinstance(step.events[0], RequestApproved)


def test_a_click_after_the_ttl_expires_the_request_and_is_refused() -> None:
    record = pending()
    step = machine.decide(
        record, decision(record.request_id, "alice@example.com"), profiles(), later(3600)
    )
    [event] = step.events
    assert isinstance(event, RequestExpired)
    assert record_of(step).status is RequestStatus.EXPIRED
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.NOT_PENDING


# --- cancel ------------------------------------------------------------------------


def test_the_requester_cancels_a_pending_request() -> None:
    record = pending()
    step = machine.cancel(record, cancel(record.request_id, "Dave@Example.com"), NOW)
    [event] = step.events
    assert isinstance(event, RequestCancelled)
    assert event.cancelled_by == person("Dave@Example.com")
    assert record_of(step).status is RequestStatus.CANCELLED
    assert record_of(step).next_timer() is None


def test_only_the_requester_may_cancel() -> None:
    record = pending()
    step = machine.cancel(record, cancel(record.request_id, "alice@example.com"), NOW)
    assert step.record is None
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.NOT_REQUESTER
    assert step.refusal.action == "cancel"


def test_cancel_after_the_outcome_is_refused() -> None:
    record = pending()
    approved = record_of(
        machine.decide(record, decision(record.request_id, "alice@example.com"), profiles(), NOW)
    )
    step = machine.cancel(approved, cancel(record.request_id), NOW)
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.NOT_PENDING


def test_cancel_of_an_unknown_request_is_refused() -> None:
    step = machine.cancel(None, cancel(submitted().request_id), NOW)
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.UNKNOWN_REQUEST


# --- expiry ------------------------------------------------------------------------


def test_the_timer_expires_a_pending_request_when_due() -> None:
    record = pending()
    assert record.expires_at is not None
    step = machine.expire(record, record.expires_at, record.expires_at + timedelta(seconds=1))
    [event] = step.events
    assert isinstance(event, RequestExpired)
    assert record_of(step).status is RequestStatus.EXPIRED


def test_a_timer_before_the_expiry_changes_nothing() -> None:
    record = pending()
    step = machine.expire(record, NOW + timedelta(minutes=5), NOW + timedelta(minutes=5))
    assert step.record is None
    assert step.events == ()
    assert step.note


def test_a_timer_after_a_decision_changes_nothing() -> None:
    record = pending()
    approved = record_of(
        machine.decide(record, decision(record.request_id, "alice@example.com"), profiles(), NOW)
    )
    step = machine.expire(approved, later(3600), later(3601))
    assert step.record is None
    assert step.events == ()


def test_a_timer_for_an_unknown_request_changes_nothing() -> None:
    step = machine.expire(None, NOW, NOW)
    assert step.record is None
    assert step.refusal is None


def _self_approval_quorum_of(required: int) -> ProfilesConfig:
    """`staging`'s rules (dave may approve himself) with a quorum of `required`."""
    config = profiles()
    staging = config.get("staging")
    assert staging is not None
    changed = staging.model_copy(update={"approvals_required": required})
    return config.model_copy(update={"profiles": [changed]})


def test_self_approval_never_replaces_a_quorum_of_two() -> None:
    # Intake offers no approver choice when two approvals are needed, but approvals never
    # trusts the form: a submission naming the requester must not approve at once.
    config = _self_approval_quorum_of(2)
    sub = submitted(profile_id="staging", approver_email="dave@example.com")
    step = machine.open_request(sub, config, device(), NOW)
    record = record_of(step)
    assert record.status is RequestStatus.PENDING
    [event] = step.events
    assert isinstance(event, ApprovalRequested)
    assert event.approvals_required == 2
    # dave's own approval counts once; a second approver is still needed
    record = record_of(
        machine.decide(record, decision(record.request_id, "dave@example.com"), config, NOW)
    )
    assert record.status is RequestStatus.PENDING
    step = machine.decide(record, decision(record.request_id, "alice@example.com"), config, NOW)
    assert record_of(step).status is RequestStatus.APPROVED
