"""Reminders and escalation in Slack: what people see (golden JSON) and what is posted
where, once, whatever order and however often the events come."""

from __future__ import annotations

from typing import Any

from emulators.slack.blockkit import validate_message_blocks
from services.notifier.domain.approver_message import approver_message
from services.notifier.domain.audit_messages import audit_status_message, audit_step_message
from services.notifier.domain.context import NotifyContext
from services.notifier.domain.nudge_messages import escalation_reply, reminder_reply
from services.notifier.domain.plan import (
    REQUESTER_SLOT,
    Operation,
    Post,
    Update,
    approver_slot,
    audit_slot,
    escalation_slot,
    plan,
    reminder_slot,
    step_slot,
)
from services.notifier.domain.record import MessageRef, NotifierRecord
from services.notifier.domain.request_view import RequestView, fold
from services.notifier.domain.requester_message import requester_message
from services.notifier.domain.slack_message import SlackMessage
from shared.contracts.events import Message, Person
from tests.notifier import notifier_factories as f

CTX = NotifyContext(admin_url=f.ADMIN_URL, channels=(f.AUDIT_CHANNEL,))
AUDIT = f.AUDIT_CHANNEL
PENDING = (f.submitted(), f.approval_requested())


def view_after(*events: Message) -> RequestView:
    view = RequestView(request_id=f.REQUEST_ID)
    for event in events:
        view = fold(view, event)
    return view


def test_reminder_and_escalation_messages_golden() -> None:
    reminded = view_after(*PENDING, f.reminded())
    escalated = view_after(*PENDING, f.reminded(), f.escalated(groups=["S0FALLBAK1"]))
    nobody = view_after(*PENDING, f.escalated(approvers=[]))
    rendered: dict[str, SlackMessage] = {
        "approver_reminded": approver_message(reminded, CTX),
        "approver_escalated": approver_message(escalated, CTX),
        "approver_escalated_fallback_first_ask": approver_message(escalated, CTX, reminded=False),
        "approver_escalated_then_approved": approver_message(
            view_after(*PENDING, f.escalated(), f.approved()), CTX
        ),
        "requester_escalated": requester_message(escalated, CTX),
        "requester_escalated_to_nobody": requester_message(nobody, CTX),
        "audit_status_escalated": audit_status_message(escalated, CTX),
        "reply_reminder": reminder_reply(f.reminded(), reminded, CTX),
        "reply_escalation": escalation_reply(f.escalated(groups=["S0FALLBAK1"]), escalated, CTX),
        "reply_escalation_to_nobody": escalation_reply(f.escalated(approvers=[]), nobody, CTX),
        "requester_escalated_by_source": requester_message(
            view_after(*PENDING, f.escalated_by_source()), CTX
        ),
    }
    for name, event in (
        ("step_reminded", f.reminded(2, [f.BOB])),
        ("step_escalated", f.escalated(groups=["S0FALLBAK1"])),
        ("step_escalated_to_nobody", f.escalated(approvers=[])),
    ):
        step = audit_step_message(event, escalated)
        assert step is not None
        rendered[name] = step
    for message in rendered.values():
        validate_message_blocks(message.blocks_json())
    f.assert_golden("nudges", {k: v.as_json() for k, v in rendered.items()})


def test_the_approver_copy_says_which_reminder_only_while_pending() -> None:
    pending = str(approver_message(view_after(*PENDING, f.reminded(2)), CTX).as_json())
    assert "Reminder 2 of 2" in pending
    decided = str(approver_message(view_after(*PENDING, f.reminded(2), f.denied()), CTX).as_json())
    assert "Reminder" not in decided


def test_reminders_folded_out_of_order_keep_the_latest() -> None:
    view = view_after(*PENDING, f.reminded(2), f.reminded(1))
    assert view.reminders == 2


def test_escalation_folded_before_the_first_ask_still_asks_everyone() -> None:
    view = view_after(f.submitted(), f.escalated(), f.approval_requested())
    assert [p.email for p in view.everyone_asked] == [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
    ]


def done(record: NotifierRecord, event: Message, event_id: str) -> NotifierRecord:
    """Fold, plan, and record every operation as done (as the handler does)."""
    record = record.with_view(fold(record.view, event))
    for n, op in enumerate(plan(record, event, event_id, CTX)):
        if isinstance(op, Post):
            ref = MessageRef(channel=f"D-{op.slot}", ts=f"{n}", digest=op.message.digest())
        else:
            ref = op.ref.model_copy(update={"digest": op.message.digest()})
        record = record.with_ref(op.slot, ref)
    return record.with_applied(event_id)


def apply(record: NotifierRecord, event: Message, event_id: str) -> list[Operation]:
    return plan(record.with_view(fold(record.view, event)), event, event_id, CTX)


def shape(ops: list[Operation]) -> list[tuple[str, str, Any]]:
    return [
        (type(op).__name__, op.slot, op.thread_slot if isinstance(op, Post) else None) for op in ops
    ]


def pending_record() -> NotifierRecord:
    record = NotifierRecord.new(f.REQUEST_ID)
    for n, event in enumerate(PENDING):
        record = done(record, event, f"E{n}")
    return record


def test_a_reminder_updates_every_copy_and_replies_under_the_undecided_ones() -> None:
    ops = apply(pending_record(), f.reminded(1, [f.BOB]), "R1")
    assert shape(ops) == [
        ("Update", approver_slot(f.ALICE), None),
        ("Update", approver_slot(f.BOB), None),
        ("Post", step_slot(AUDIT, "R1"), audit_slot(AUDIT)),
        ("Post", reminder_slot(f.BOB, "R1"), approver_slot(f.BOB)),
    ]


def test_a_redelivered_reminder_posts_nothing_again() -> None:
    record = done(pending_record(), f.reminded(), "R1")
    assert apply(record, f.reminded(), "R1") == []


def test_an_escalation_asks_the_fallback_and_tells_the_requester_and_the_audit_thread() -> None:
    ops = apply(pending_record(), f.escalated(), "X1")
    assert shape(ops) == [
        ("Update", REQUESTER_SLOT, None),
        ("Update", approver_slot(f.ALICE), None),
        ("Update", approver_slot(f.BOB), None),
        ("Post", approver_slot(f.CAROL), None),
        ("Update", audit_slot(AUDIT), None),
        ("Post", step_slot(AUDIT, "X1"), audit_slot(AUDIT)),
        ("Post", escalation_slot("X1"), REQUESTER_SLOT),
    ]
    [ask] = [op for op in ops if isinstance(op, Post) and op.slot == approver_slot(f.CAROL)]
    assert {"approve", "deny"} <= {
        e.get("action_id")
        for b in ask.message.blocks_json()
        for e in b.get("elements", [])
        if isinstance(e, dict)
    }


def test_a_reminder_arriving_after_the_decision_posts_no_reply() -> None:
    record = done(pending_record(), f.denied(), "D1")
    ops = apply(record, f.reminded(), "R1")
    assert all(not (isinstance(op, Post) and op.slot.startswith("reminder:")) for op in ops)
    assert not any(isinstance(op, Update) for op in ops)


def test_a_fallback_approver_is_not_asked_twice_when_already_an_approver() -> None:
    ops = apply(pending_record(), f.escalated(approvers=[Person(email=f.BOB.email)]), "X1")
    assert [op.slot for op in ops if isinstance(op, Post) and op.slot.startswith("approver:")] == []


def test_a_fallback_approvers_first_ask_carries_no_earlier_reminder() -> None:
    record = done(done(pending_record(), f.reminded(1), "R1"), f.reminded(2), "R2")
    ops = apply(record, f.escalated(), "X1")
    [ask] = [op for op in ops if isinstance(op, Post) and op.slot == approver_slot(f.CAROL)]
    assert "Reminder" not in str(ask.message.as_json())
    assert "Escalated" in str(ask.message.as_json())
    [alice] = [op for op in ops if isinstance(op, Update) and op.slot == approver_slot(f.ALICE)]
    assert "Reminder 2 of 2" in str(alice.message.as_json())


def test_a_fallback_approver_reminded_after_the_escalation_sees_the_reminder() -> None:
    record = done(done(pending_record(), f.reminded(1), "R1"), f.escalated(), "X1")
    ops = apply(record, f.reminded(2, [f.ALICE, f.CAROL]), "R2")
    [carol] = [op for op in ops if isinstance(op, Update) and op.slot == approver_slot(f.CAROL)]
    assert "Reminder 2 of 2" in str(carol.message.as_json())
