"""Reminders and escalation: due times from the record, one reminder per step however
often the timer fires, fallback approvers deciding only once escalated.

Profile `nudged` (tests/approvals/profiles.yaml): alice and the members of S0APPROVE1
approve; reminders at 15 and 30 minutes (two, the default); escalation at 30 minutes to
erin and the members of S0FALLBAK1 (alice, listed there too, is not added twice); the
request expires after an hour.
"""

from __future__ import annotations

from datetime import timedelta

from services.approvals.domain import machine
from services.approvals.domain.record import RequestRecord, RequestStatus
from shared.contracts.events import (
    ApprovalEscalated,
    ApprovalReminded,
    ApprovalRequested,
    ApproverGroup,
    Person,
    RefusalReason,
    RequestApproved,
    RequestExpired,
)
from shared.contracts.subjects import Subject, TimerPurpose
from shared.timers import TimerFired
from tests.approvals.factories import NOW, decision, device, profiles, submitted
from tests.approvals.fakes import FakeHarness, envelope

GROUPS = [
    ApproverGroup(group_id="S0APPROVE1", members=["bob@example.com"]),
    ApproverGroup(group_id="S0FALLBAK1", members=["frank@example.com", "bob@example.com"]),
]


def opened() -> RequestRecord:
    sub = submitted(profile_id="nudged", approver_groups=GROUPS, duration_seconds=1800)
    record = machine.open_request(sub, profiles(), device(), NOW).record
    assert record is not None
    assert record.status is RequestStatus.PENDING
    return record


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def test_the_rules_keep_the_schedule_and_the_fallback_people() -> None:
    record = opened()
    assert record.rules is not None
    assert record.rules.remind_after_seconds == 15 * 60
    assert record.rules.max_reminders == 2
    assert record.rules.escalate_after_seconds == 30 * 60
    # alice and bob already approve: escalation adds only the others.
    assert record.rules.fallback == ["erin@example.com", "frank@example.com"]
    assert record.rules.fallback_groups == ["S0FALLBAK1"]
    assert record.next_timer() == NOW + minutes(15)


def test_the_first_ask_names_only_the_approvers_groups_not_the_escalation_s() -> None:
    sub = submitted(profile_id="nudged", approver_groups=GROUPS, duration_seconds=1800)
    [asked] = machine.open_request(sub, profiles(), device(), NOW).events
    assert isinstance(asked, ApprovalRequested)
    assert asked.approver_groups == ["S0APPROVE1"]
    assert "frank@example.com" not in [p.email for p in asked.approvers]


def test_the_first_reminder_names_who_has_not_decided() -> None:
    record = opened()
    step = machine.on_timer(record, NOW + minutes(15), NOW + minutes(15))
    [event] = step.events
    assert isinstance(event, ApprovalReminded)
    assert (event.reminder, event.max_reminders) == (1, 2)
    assert [p.email for p in event.approvers] == ["alice@example.com", "bob@example.com"]
    assert event.waiting_seconds == 15 * 60
    assert step.record is not None
    assert step.record.reminders == 1
    assert step.record.next_timer() == NOW + minutes(30)


def test_the_same_timer_again_reminds_nobody() -> None:
    record = opened()
    first = machine.on_timer(record, NOW + minutes(15), NOW + minutes(15))
    assert first.record is not None
    again = machine.on_timer(first.record, NOW + minutes(15), NOW + minutes(16))
    assert again.record is None
    assert again.events == ()


def test_the_second_reminder_and_the_escalation_come_together_then_the_expiry() -> None:
    record = opened()
    first = machine.on_timer(record, NOW + minutes(15), NOW + minutes(15)).record
    assert first is not None
    step = machine.on_timer(first, NOW + minutes(30), NOW + minutes(30))
    reminded, escalated = step.events
    assert isinstance(reminded, ApprovalReminded)
    assert reminded.reminder == 2
    assert [p.email for p in reminded.approvers] == ["alice@example.com", "bob@example.com"]
    assert isinstance(escalated, ApprovalEscalated)
    assert [p.email for p in escalated.approvers] == ["erin@example.com", "frank@example.com"]
    assert escalated.approver_groups == ["S0FALLBAK1"]
    assert [(g.group_id, g.members) for g in escalated.group_members] == [
        ("S0FALLBAK1", ["frank@example.com", "bob@example.com"])
    ]
    assert escalated.waiting_seconds == 30 * 60
    assert step.record is not None
    assert step.record.escalated_at == NOW + minutes(30)
    assert [p.email for p in step.record.asked][-2:] == ["erin@example.com", "frank@example.com"]
    assert step.record.next_timer() == step.record.expires_at == NOW + minutes(60)
    ended = machine.on_timer(step.record, NOW + minutes(60), NOW + minutes(60))
    [expired] = ended.events
    assert isinstance(expired, RequestExpired)


def test_after_an_outage_one_reminder_is_sent_numbered_as_the_latest_due() -> None:
    record = opened()
    step = machine.on_timer(record, NOW + minutes(15), NOW + minutes(50))
    reminded, escalated = step.events
    assert isinstance(reminded, ApprovalReminded)
    assert reminded.reminder == 2
    assert isinstance(escalated, ApprovalEscalated)
    assert step.record is not None
    assert step.record.reminders == 2


def test_a_request_past_its_ttl_expires_without_a_reminder() -> None:
    record = opened()
    step = machine.on_timer(record, NOW + minutes(15), NOW + minutes(61))
    [event] = step.events
    assert isinstance(event, RequestExpired)


def test_a_decided_request_is_never_reminded() -> None:
    record = opened()
    approved = machine.decide(
        record, decision(record.request_id, "bob@example.com"), profiles(), NOW
    )
    assert approved.record is not None
    step = machine.on_timer(approved.record, NOW + minutes(15), NOW + minutes(15))
    assert step.events == ()
    assert approved.record.next_timer() is None


def test_those_who_decided_are_not_reminded() -> None:
    sub = submitted(profile_id="nudged", approver_groups=GROUPS, duration_seconds=1800)
    cfg = profiles()
    quorum = cfg.model_copy(
        update={
            "profiles": [
                p.model_copy(update={"approvals_required": 2}) if p.id == "nudged" else p
                for p in cfg.profiles
            ]
        }
    )
    record = machine.open_request(sub, quorum, device(), NOW).record
    assert record is not None
    voted = machine.decide(record, decision(record.request_id, "alice@example.com"), quorum, NOW)
    assert voted.record is not None
    [event] = machine.on_timer(voted.record, NOW + minutes(15), NOW + minutes(15)).events
    assert isinstance(event, ApprovalReminded)
    assert [p.email for p in event.approvers] == ["bob@example.com"]


def test_a_fallback_approver_decides_only_once_escalated() -> None:
    record = opened()
    early = machine.decide(record, decision(record.request_id, "erin@example.com"), profiles(), NOW)
    assert early.refusal is not None
    assert early.refusal.code is RefusalReason.NOT_ELIGIBLE
    escalated = machine.on_timer(record, NOW + minutes(30), NOW + minutes(30)).record
    assert escalated is not None
    for email in ("erin@example.com", "frank@example.com"):
        step = machine.decide(
            escalated, decision(record.request_id, email), profiles(), NOW + minutes(31)
        )
        [event] = step.events
        assert isinstance(event, RequestApproved)
        assert [p.email for p in event.approvers] == [email]


def test_a_fallback_approver_dropped_from_the_profile_loses_the_right() -> None:
    record = opened()
    escalated = machine.on_timer(record, NOW + minutes(30), NOW + minutes(30)).record
    assert escalated is not None
    cfg = profiles()
    nudged = cfg.get("nudged")
    assert nudged is not None
    assert nudged.escalate_to is not None
    narrower = nudged.model_copy(
        update={"escalate_to": nudged.escalate_to.model_copy(update={"emails": []})}
    )
    current = cfg.model_copy(
        update={"profiles": [narrower if p.id == "nudged" else p for p in cfg.profiles]}
    )
    step = machine.decide(escalated, decision(record.request_id, "erin@example.com"), current, NOW)
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.NOT_ELIGIBLE


def fired(request_id: str, due_minutes: float, generation: int = 0) -> TimerFired:
    return TimerFired(
        request_id=request_id,
        purpose=TimerPurpose.REQUEST_EXPIRY,
        due_at=NOW + minutes(due_minutes),
        generation=generation,
    )


async def test_a_redelivered_or_duplicated_timer_reminds_once() -> None:
    harness = FakeHarness()
    sub = submitted(profile_id="nudged", approver_groups=GROUPS, duration_seconds=1800)
    await harness.app().on_submitted(envelope(sub))
    assert harness.scheduled[-1] == (sub.request_id, NOW + minutes(15))

    harness.now = NOW + minutes(15)
    await harness.app().on_timer(fired(sub.request_id, 15))
    await harness.app().on_timer(fired(sub.request_id, 15))  # redelivered
    await harness.app().on_timer(fired(sub.request_id, 15, generation=7))  # a stray copy
    [(_, reminded)] = harness.publisher.on(Subject.APPROVAL_REMINDED)
    assert isinstance(reminded, ApprovalReminded)
    assert harness.scheduled[-1] == (sub.request_id, NOW + minutes(30))

    harness.now = NOW + minutes(30)
    await harness.app().on_timer(fired(sub.request_id, 30))
    assert len(harness.publisher.on(Subject.APPROVAL_REMINDED)) == 2
    [(_, escalated)] = harness.publisher.on(Subject.APPROVAL_ESCALATED)
    assert isinstance(escalated, ApprovalEscalated)
    assert harness.scheduled[-1] == (sub.request_id, NOW + minutes(60))

    harness.now = NOW + minutes(31)
    await harness.app().on_decision(envelope(decision(sub.request_id, "erin@example.com")))
    [(_, approved)] = harness.publisher.on(Subject.REQUEST_APPROVED)
    assert isinstance(approved, RequestApproved)
    harness.now = NOW + minutes(60)
    await harness.app().on_timer(fired(sub.request_id, 60))
    assert harness.publisher.on(Subject.REQUEST_EXPIRED) == []
    assert len(harness.publisher.on(Subject.APPROVAL_REMINDED)) == 2


def test_the_asked_and_the_fallback_are_named_as_the_submission_named_them() -> None:
    bob = Person(email="bob@example.com", slack_user_id="U0BOB", name="Bob")
    frank = Person(email="frank@example.com", slack_user_id="U0FRANK", name="Frank")
    sub = submitted(
        profile_id="nudged",
        approver_groups=GROUPS,
        duration_seconds=1800,
        approver_people=[bob, frank],
    )
    opened = machine.open_request(sub, profiles(), device(), NOW)
    [asked] = opened.events
    assert isinstance(asked, ApprovalRequested)
    by_email = {p.email: p for p in asked.approvers}
    assert by_email["bob@example.com"] == bob
    assert by_email["alice@example.com"] == Person(email="alice@example.com")  # not named
    record = opened.record
    assert record is not None
    step = machine.on_timer(record, NOW + minutes(30), NOW + minutes(30))
    [escalated] = [e for e in step.events if isinstance(e, ApprovalEscalated)]
    assert escalated.approvers == [Person(email="erin@example.com"), frank]
