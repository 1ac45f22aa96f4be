"""Quorum votes in Slack (access.approval.counted): what people see (golden JSON) and
what is posted or updated where, once, whatever order and however often events come."""

from __future__ import annotations

from emulators.slack.blockkit import validate_message_blocks
from services.notifier.domain.approver_message import approver_message
from services.notifier.domain.audit_messages import audit_status_message, audit_step_message
from services.notifier.domain.context import NotifyContext
from services.notifier.domain.plan import (
    REQUESTER_SLOT,
    Post,
    Update,
    approver_slot,
    audit_slot,
    plan,
    step_slot,
)
from services.notifier.domain.record import MessageRef, NotifierRecord
from services.notifier.domain.request_view import RequestView, fold
from services.notifier.domain.requester_message import requester_message
from services.notifier.domain.slack_message import SlackMessage
from services.notifier.domain.votes import merged
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


def text_of(message: SlackMessage) -> str:
    return str(message.as_json())


def actions(message: SlackMessage) -> set[str]:
    return {
        str(e.get("action_id"))
        for b in message.blocks_json()
        for e in b.get("elements", [])
        if isinstance(e, dict) and "action_id" in e
    }


def test_counted_approval_messages_golden() -> None:
    voted = view_after(*PENDING, f.counted())
    denied = view_after(*PENDING, f.counted(), f.denied())
    expired = view_after(*PENDING, f.counted(), f.request_expired())
    rendered: dict[str, SlackMessage] = {
        "approver_counted_own_copy": approver_message(voted, CTX, counted=True),
        "approver_counted_other_copy": approver_message(voted, CTX),
        "requester_counted": requester_message(voted, CTX),
        "audit_status_counted": audit_status_message(voted, CTX),
        "approver_denied_after_one": approver_message(denied, CTX),
        "requester_denied_after_one": requester_message(denied, CTX),
        "audit_status_denied_after_one": audit_status_message(denied, CTX),
        "approver_expired_after_one": approver_message(expired, CTX),
        "requester_expired_after_one": requester_message(expired, CTX),
        "audit_status_expired_after_one": audit_status_message(expired, CTX),
    }
    for name, event, view in (
        ("step_counted", f.counted(), voted),
        ("step_denied_after_one", f.denied(), denied),
        ("step_expired_after_one", f.request_expired(), expired),
    ):
        step = audit_step_message(event, view)
        assert step is not None
        rendered[name] = step
    for message in rendered.values():
        validate_message_blocks(message.blocks_json())
    f.assert_golden("votes", {k: v.as_json() for k, v in rendered.items()})


def test_the_own_copy_says_counted_without_buttons_the_others_keep_theirs() -> None:
    voted = view_after(*PENDING, f.counted())
    own = approver_message(voted, CTX, counted=True)
    other = approver_message(voted, CTX)
    assert "Your approval is counted" in text_of(own)
    assert "waiting for 1 more approval" in text_of(own)
    assert not {"approve", "deny"} & actions(own)
    assert {"approve", "deny"} <= actions(other)
    assert "1 of 2 approvals* so far: Alice Approver" in text_of(other)


def test_a_deny_and_an_expiry_name_the_approvals_given() -> None:
    denied = view_after(*PENDING, f.counted(), f.denied())
    assert "It had 1 of 2 approvals (Alice Approver)" in text_of(requester_message(denied, CTX))
    expired = view_after(*PENDING, f.counted(), f.request_expired())
    assert "Expired* with 1 of 2 approvals (Alice Approver)" in text_of(
        requester_message(expired, CTX)
    )
    assert "Expired unanswered" not in text_of(audit_status_message(expired, CTX))
    without = view_after(*PENDING, f.request_expired())
    assert "nobody decided in time" in text_of(requester_message(without, CTX))


def test_counted_approvals_merge_out_of_order_and_twice() -> None:
    both = f.counted([f.ALICE, f.BOB])
    view = view_after(*PENDING, both, f.counted(), both)
    assert [p.email for p in view.approvals] == ["alice@example.com", "bob@example.com"]
    late = view_after(*PENDING, f.denied(), f.counted())  # a late count still names Alice
    assert [p.email for p in late.approvals] == ["alice@example.com"]
    assert merged([Person(email="a@example.com")], []) == [Person(email="a@example.com")]


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


def pending_record() -> NotifierRecord:
    record = NotifierRecord.new(f.REQUEST_ID)
    for n, event in enumerate(PENDING):
        record = done(record, event, f"E{n}")
    return record


def test_a_counted_approval_updates_every_copy_once_and_adds_one_audit_line() -> None:
    record = pending_record().with_view(fold(pending_record().view, f.counted()))
    ops = plan(record, f.counted(), "V1", CTX)
    assert [(type(op).__name__, op.slot) for op in ops] == [
        ("Update", REQUESTER_SLOT),
        ("Update", approver_slot(f.ALICE)),
        ("Update", approver_slot(f.BOB)),
        ("Update", audit_slot(AUDIT)),
        ("Post", step_slot(AUDIT, "V1")),
    ]
    [alice] = [op for op in ops if isinstance(op, Update) and op.slot == approver_slot(f.ALICE)]
    assert not {"approve", "deny"} & actions(alice.message)
    again = done(pending_record(), f.counted(), "V1")
    assert plan(again.with_view(fold(again.view, f.counted())), f.counted(), "V1", CTX) == []


def test_an_extension_vote_shows_on_the_extension_copies() -> None:
    ext_ask = f.approval_requested().model_copy(
        update={"extension_id": f.EXTENSION_ID, "additional_seconds": 1800}
    )
    view = view_after(
        *PENDING, f.approved(), f.applied(), ext_ask, f.counted(extension_id=f.EXTENSION_ID)
    )
    ext = view.extensions[f.EXTENSION_ID]
    assert [p.email for p in ext.approvals] == ["alice@example.com"]
    assert view.approvals == []  # the request's own quorum is not touched
    own = approver_message(view, CTX, ext, counted=True)
    assert "Your approval is counted" in text_of(own)
    assert "1 of 2 approvals* so far" in text_of(requester_message(view, CTX))
