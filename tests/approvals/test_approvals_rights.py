"""Who may decide a pending request: eligible when it was opened AND in profiles.yaml now.

The snapshot taken at submission fixes what the requester and the approvers were shown
(who was asked, how many approvals); the profiles loaded now can only take a right away.
"""

from __future__ import annotations

from services.approvals.domain import machine
from services.approvals.domain.record import RequestRecord, RequestStatus
from services.approvals.domain.step import Step
from shared.contracts.events import RefusalFacts, RefusalReason, RefusalWording
from shared.profiles import Approvers, ProfilesConfig
from tests.approvals.factories import NOW, decision, device, profiles, submitted


def _with_approvers(profile_id: str, emails: list[str], **changes: object) -> ProfilesConfig:
    """profiles.yaml after an edit to one profile's approvers (and other fields)."""
    config = profiles()
    edited = [
        p.model_copy(update={"approvers": Approvers(emails=emails), **changes})
        if p.id == profile_id
        else p
        for p in config.profiles
    ]
    return config.model_copy(update={"profiles": edited})


def _pending(profile_id: str = "prod") -> RequestRecord:
    sub = submitted(profile_id=profile_id) if profile_id != "prod" else submitted()
    step = machine.open_request(sub, profiles(), device(), NOW)
    assert step.record is not None
    assert step.record.status is RequestStatus.PENDING
    return step.record


def _refusal(step: Step) -> RefusalReason | None:
    return step.refusal.code if step.refusal is not None else None


def test_an_approver_removed_from_profiles_yaml_can_no_longer_decide() -> None:
    record = _pending()
    assert record.rules is not None
    assert "bob@example.com" in record.rules.eligible  # asked when the request was opened
    without_bob = _with_approvers("prod", ["alice@example.com"])
    step = machine.decide(record, decision(record.request_id, "bob@example.com"), without_bob, NOW)
    assert _refusal(step) is RefusalReason.NOT_ELIGIBLE
    assert step.record is None
    # the approvers who remain still decide
    kept = machine.decide(
        record, decision(record.request_id, "alice@example.com"), without_bob, NOW
    )
    assert kept.refusal is None
    assert kept.record is not None
    assert kept.record.status is RequestStatus.APPROVED


def test_a_profile_removed_from_profiles_yaml_lets_nobody_decide() -> None:
    record = _pending()
    gone = profiles().model_copy(
        update={"profiles": [p for p in profiles().profiles if p.id != "prod"]}
    )
    step = machine.decide(record, decision(record.request_id, "alice@example.com"), gone, NOW)
    assert _refusal(step) is RefusalReason.NOT_ELIGIBLE


def test_an_approver_added_after_submission_was_not_asked_and_cannot_decide() -> None:
    record = _pending()
    with_carol = _with_approvers(
        "prod", ["alice@example.com", "bob@example.com", "carol@example.com"]
    )
    step = machine.decide(record, decision(record.request_id, "carol@example.com"), with_carol, NOW)
    assert _refusal(step) is RefusalReason.NOT_ELIGIBLE


def test_a_lowered_quorum_does_not_lower_the_bar_of_a_pending_request() -> None:
    record = _pending("prod-db")
    assert record.rules is not None
    assert record.rules.approvals_required == 2
    lowered = _with_approvers(
        "prod-db",
        ["alice@example.com", "bob@example.com", "carol@example.com"],
        approvals_required=1,
    )
    step = machine.decide(record, decision(record.request_id, "alice@example.com"), lowered, NOW)
    assert step.refusal is None
    assert step.record is not None
    assert step.record.status is RequestStatus.PENDING  # still needs its second approval


def test_a_refusal_carries_facts_for_the_notifier_and_english_for_siem_readers() -> None:
    record = _pending()
    without_bob = _with_approvers("prod", ["alice@example.com"])
    step = machine.decide(record, decision(record.request_id, "bob@example.com"), without_bob, NOW)
    assert step.refusal is not None
    assert step.refusal.facts == RefusalFacts(
        wording=RefusalWording.NOT_APPROVER, subject="Production"
    )
    assert step.refusal.message == "You are not an approver for Production."
