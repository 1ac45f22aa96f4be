"""The plan: which messages to post or update for an event, given what was posted."""

from __future__ import annotations

from services.notifier.domain.context import NotifyContext
from services.notifier.domain.plan import (
    REQUESTER_SLOT,
    Operation,
    Post,
    ToChannel,
    ToPerson,
    Update,
    alert_slot,
    approver_slot,
    audit_slot,
    notice_slot,
    plan,
    plan_problem_notice,
    refusal_slot,
    step_slot,
)
from services.notifier.domain.record import MessageRef, NotifierRecord
from services.notifier.domain.request_view import fold
from shared.contracts.events import ApprovalMode, Message
from tests.notifier import notifier_factories as f

CTX = NotifyContext(admin_url=f.ADMIN_URL, channels=(f.AUDIT_CHANNEL,))
AUDIT = f.AUDIT_CHANNEL


def apply(record: NotifierRecord, event: Message, event_id: str) -> list[Operation]:
    """Fold and plan, as the handler does."""
    record = record.with_view(fold(record.view, event))
    return plan(record, event, event_id, CTX)


def done(record: NotifierRecord, event: Message, event_id: str) -> NotifierRecord:
    """Fold, plan, and record every operation as done."""
    record = record.with_view(fold(record.view, event))
    for n, op in enumerate(plan(record, event, event_id, CTX)):
        if isinstance(op, Post):
            ref = MessageRef(
                channel=f"C-{op.slot}", ts=f"{event_id}.{n}", digest=op.message.digest()
            )
        else:
            ref = op.ref.model_copy(update={"digest": op.message.digest()})
        record = record.with_ref(op.slot, ref)
    return record.with_applied(event_id)


def shape(ops: list[Operation]) -> list[tuple[str, str]]:
    return [(type(op).__name__, op.slot) for op in ops]


def test_submission_posts_the_requester_dm_and_the_audit_message_with_a_step() -> None:
    ops = apply(NotifierRecord.new(f.REQUEST_ID), f.submitted(), "E1")
    assert shape(ops) == [
        ("Post", REQUESTER_SLOT),
        ("Post", audit_slot(AUDIT)),
        ("Post", step_slot(AUDIT, "E1")),
    ]
    assert ops[0].to == ToPerson(f.DAVE)
    assert isinstance(ops[2], Post)
    assert ops[2].thread_slot == audit_slot(AUDIT)


def test_asking_approvers_posts_each_copy_and_updates_the_rest() -> None:
    record = done(NotifierRecord.new(f.REQUEST_ID), f.submitted(), "E1")
    ops = apply(record, f.approval_requested(), "E2")
    assert shape(ops) == [
        ("Update", REQUESTER_SLOT),
        ("Post", approver_slot(f.ALICE)),
        ("Post", approver_slot(f.BOB)),
        ("Update", audit_slot(AUDIT)),
        ("Post", step_slot(AUDIT, "E2")),
    ]


def test_replanning_a_handled_event_does_nothing() -> None:
    record = done(NotifierRecord.new(f.REQUEST_ID), f.submitted(), "E1")
    record = done(record, f.approval_requested(), "E2")
    assert apply(record, f.approval_requested(), "E2") == []


def test_a_decision_updates_every_approver_copy() -> None:
    record = NotifierRecord.new(f.REQUEST_ID)
    for n, event in enumerate((f.submitted(), f.approval_requested())):
        record = done(record, event, f"E{n}")
    ops = apply(record, f.approved(), "E9")
    assert shape(ops) == [
        ("Update", REQUESTER_SLOT),
        ("Update", approver_slot(f.ALICE)),
        ("Update", approver_slot(f.BOB)),
        ("Update", audit_slot(AUDIT)),
        ("Post", step_slot(AUDIT, "E9")),
    ]


def test_a_decided_request_does_not_post_new_approver_copies() -> None:
    # approval.requested handled after approved (another consumer): no buttons to press.
    record = done(NotifierRecord.new(f.REQUEST_ID), f.approved(), "E1")
    ops = apply(record, f.approval_requested(), "E2")
    assert not any(op.slot.startswith("approver:") for op in ops)


def test_refusal_is_a_dm_to_who_clicked_and_a_thread_reply() -> None:
    record = done(NotifierRecord.new(f.REQUEST_ID), f.submitted(), "E1")
    ops = apply(record, f.refused(), "E2")
    assert shape(ops) == [("Post", step_slot(AUDIT, "E2")), ("Post", refusal_slot("E2"))]
    assert ops[1].to == ToPerson(f.MALLORY)


def test_break_glass_alerts_each_audit_channel_once() -> None:
    record = done(NotifierRecord.new(f.REQUEST_ID), f.submitted(), "E1")
    event = f.approved(mode=ApprovalMode.BREAK_GLASS)
    ops = apply(record, event, "E2")
    assert ("Post", alert_slot(AUDIT)) in shape(ops)
    record = done(record, event, "E2")
    assert all(op.slot != alert_slot(AUDIT) for op in apply(record, f.applied(), "E3"))


def test_unreachable_targets_are_skipped() -> None:
    record = NotifierRecord.new(f.REQUEST_ID).with_unreachable(
        ToChannel(AUDIT).target, "is_archived"
    )
    ops = apply(record, f.submitted(), "E1")
    assert shape(ops) == [("Post", REQUESTER_SLOT)]


def test_a_problem_is_reported_to_the_requester_once() -> None:
    record = done(NotifierRecord.new(f.REQUEST_ID), f.submitted(), "E1")
    notices = plan_problem_notice(record, ToChannel(AUDIT), "is_archived")
    assert [(n.slot, n.to) for n in notices] == [
        (notice_slot(ToChannel(AUDIT).target), ToPerson(f.DAVE))
    ]
    assert "is_archived" in notices[0].message.text
    reported = record.with_ref(notices[0].slot, MessageRef(channel="D1", ts="1.1", digest="x"))
    assert plan_problem_notice(reported, ToChannel(AUDIT), "is_archived") == []
    # the requester's own DM failing is not reported to the requester
    assert plan_problem_notice(record, ToPerson(f.DAVE), "users_not_found") == []


def test_an_unchanged_message_is_not_updated() -> None:
    record = NotifierRecord.new(f.REQUEST_ID)
    for n, event in enumerate((f.submitted(), f.approval_requested(), f.approved())):
        record = done(record, event, f"E{n}")
    # a late duplicate of the submission (new event id) changes no status message
    ops = apply(record, f.submitted(), "E7")
    assert all(isinstance(op, Post) and op.slot.startswith("audit:") for op in ops)
    assert not any(isinstance(op, Update) for op in ops)


def test_a_posted_message_that_can_no_longer_be_built_is_planned_as_an_update() -> None:
    """The update then fails to build and is reported as rejected; planning never raises."""
    record = done(NotifierRecord.new(f.REQUEST_ID), f.submitted(), "E1")
    record = done(record, f.approval_requested(), "E2")
    copies = {approver_slot(f.ALICE), approver_slot(f.BOB)}
    unchanged = apply(record, f.refused(), "E3")
    assert not copies & {op.slot for op in unchanged if isinstance(op, Update)}
    # the approvers' copies carry a device link; one too long for a button breaks them
    broken = NotifyContext(admin_url="https://x/" + "a" * 3000, channels=(AUDIT,))
    event = f.refused()
    ops = plan(record.with_view(fold(record.view, event)), event, "E3", broken)
    assert copies <= {op.slot for op in ops if isinstance(op, Update)}
