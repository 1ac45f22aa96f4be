"""What people see: Block Kit builders pinned by golden JSON, and the rules they follow."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from emulators.slack.blockkit import validate_message_blocks
from services.notifier.domain.approver_message import approver_message
from services.notifier.domain.audit_messages import (
    audit_status_message,
    audit_step_message,
    break_glass_alert,
)
from services.notifier.domain.context import NotifyContext
from services.notifier.domain.formatting import device_url, escape, people, slack_date
from services.notifier.domain.notices import (
    approver_problem_message,
    channel_problem_message,
    refusal_message,
)
from services.notifier.domain.request_view import RequestView, fold
from services.notifier.domain.requester_message import requester_message
from services.notifier.domain.slack_message import SlackMessage
from shared.contracts.events import (
    ApprovalMode,
    AutoApprovalFacts,
    AutoApprovalHeld,
    DeviceSnapshot,
    Message,
    Person,
)
from shared.slack_ids import ActionId, AgainValue, ButtonValue
from tests.notifier import notifier_factories as f

CTX = NotifyContext(admin_url=f.ADMIN_URL, channels=(f.AUDIT_CHANNEL,))


def view_after(*events: Message) -> RequestView:
    view = RequestView(request_id=f.REQUEST_ID)
    for event in events:
        view = fold(view, event)
    return view


PENDING = (f.submitted(), f.approval_requested())
ACTIVE = (*PENDING, f.approved(), f.applied())

REQUESTER_CASES: dict[str, tuple[Message, ...]] = {
    "submitted": (f.submitted(),),
    "pending": PENDING,
    "approved_applying": (*PENDING, f.approved()),
    "break_glass_applying": (f.submitted(), f.approved(mode=ApprovalMode.BREAK_GLASS)),
    "active": ACTIVE,
    "active_extension_pending": (*ACTIVE, f.extension_requested()),
    "active_extension_denied": (*ACTIVE, f.extension_requested(), f.extension_denied()),
    "active_extension_failed": (*ACTIVE, f.grant_failed(extension_id=f.EXTENSION_ID)),
    "active_extended": (*ACTIVE, f.extension_approved(), f.extended()),
    "denied": (*PENDING, f.denied()),
    "expired_unanswered": (*PENDING, f.request_expired()),
    "cancelled": (*PENDING, f.cancelled()),
    "rejected": (f.submitted(), f.rejected()),
    "failed": (*PENDING, f.approved(), f.grant_failed()),
    "revoked": (*ACTIVE, f.revoked()),
    "ended": (*ACTIVE, f.grant_expired()),
}


def _all(messages: dict[str, SlackMessage]) -> dict[str, Any]:
    return {name: message.as_json() for name, message in messages.items()}


def _buttons(message: SlackMessage) -> dict[str, dict[str, Any]]:
    found = {}
    for block in message.blocks_json():
        for element in block.get("elements", []):
            if element.get("type") == "button":
                found[element["action_id"]] = element
    return found


def test_requester_messages_golden() -> None:
    rendered = {
        name: requester_message(view_after(*events), CTX)
        for name, events in REQUESTER_CASES.items()
    }
    f.assert_golden("requester_messages", _all(rendered))


@pytest.mark.parametrize(
    "name", ["submitted", "pending", "approved_applying", "break_glass_applying"]
)
def test_nothing_says_access_exists_before_the_grant_is_applied(name: str) -> None:
    view = view_after(*REQUESTER_CASES[name])
    for message in (requester_message(view, CTX), audit_status_message(view, CTX)):
        words = str(message.as_json()).lower()
        assert "granted" not in words
        assert "active" not in words
        assert ActionId.REVOKE.value not in _buttons(message)


def test_requester_buttons_carry_the_request() -> None:
    pending = _buttons(requester_message(view_after(*PENDING), CTX))
    assert set(pending) == {ActionId.CANCEL.value}
    active = _buttons(requester_message(view_after(*ACTIVE), CTX))
    assert set(active) == {ActionId.EXTEND.value, ActionId.REVOKE.value}
    assert ButtonValue.decode(active[ActionId.REVOKE.value]["value"]) == ButtonValue(f.REQUEST_ID)
    assert ButtonValue.decode(active[ActionId.EXTEND.value]["value"]) == ButtonValue(
        f.REQUEST_ID, profile_id=f.PROFILE
    )
    # Over, whatever the outcome: "Request again" carries the form as it was filled in.
    again = AgainValue(
        request_id=f.REQUEST_ID,
        profile_id=f.PROFILE,
        device_id=f.DEVICE.node_id,
        duration_seconds=f.DURATION,
        reason="Investigating INC-4211 <prod> & replica lag",
    )
    for name in ("denied", "expired_unanswered", "cancelled", "rejected", "failed", "revoked"):
        ended = _buttons(requester_message(view_after(*REQUESTER_CASES[name]), CTX))
        assert set(ended) == {ActionId.REQUEST_AGAIN.value}, name
        assert AgainValue.decode(ended[ActionId.REQUEST_AGAIN.value]["value"]) == again, name


def test_approver_messages_golden() -> None:
    tagged = DeviceSnapshot(
        node_id="nTAGGED1",
        name="db-1.tail1234.ts.net",
        hostname="db-1",
        tags=["tag:db"],
        os="linux",
    )
    tagged_request = f.approval_requested().model_copy(update={"device": tagged})
    extension = (*ACTIVE, f.extension_requested())
    grouped_request = f.approval_requested().model_copy(
        update={"approver_groups": ["S0614TZR7", "S0ONCALL1"]}
    )
    rendered = {
        "pending": approver_message(view_after(*PENDING), CTX),
        "pending_tagged_device_no_ipv4": approver_message(
            view_after(f.submitted(), tagged_request), CTX
        ),
        "approved": approver_message(view_after(*PENDING, f.approved()), CTX),
        "denied": approver_message(view_after(*PENDING, f.denied()), CTX),
        "expired": approver_message(view_after(*PENDING, f.request_expired()), CTX),
        "cancelled": approver_message(view_after(*PENDING, f.cancelled()), CTX),
        "pending_asked_through_groups": approver_message(
            view_after(f.submitted(), grouped_request), CTX
        ),
        "pending_asked_by_source": approver_message(
            view_after(f.submitted(), f.asked_by_source()), CTX
        ),
    }
    ext_view = view_after(*extension)
    rendered["extension_pending"] = approver_message(ext_view, CTX, ext_view.latest_extension)
    decided = view_after(*extension, f.extension_approved())
    rendered["extension_approved"] = approver_message(decided, CTX, decided.latest_extension)
    f.assert_golden("approver_messages", _all(rendered))


def test_approver_buttons_carry_request_and_extension() -> None:
    pending = _buttons(approver_message(view_after(*PENDING), CTX))
    assert ButtonValue.decode(pending[ActionId.APPROVE.value]["value"]) == ButtonValue(f.REQUEST_ID)
    assert pending[ActionId.OPEN_DEVICE.value]["url"] == f"{f.ADMIN_URL}/100.101.102.103"
    ext_view = view_after(*ACTIVE, f.extension_requested())
    ext = _buttons(approver_message(ext_view, CTX, ext_view.latest_extension))
    assert ButtonValue.decode(ext[ActionId.DENY.value]["value"]) == ButtonValue(
        f.REQUEST_ID, f.EXTENSION_ID
    )
    assert _buttons(approver_message(view_after(*PENDING, f.approved()), CTX)) == {}


def test_audit_messages_golden() -> None:
    rendered: dict[str, SlackMessage] = {}
    for name in ("submitted", "pending", "active", "denied", "failed", "revoked"):
        rendered[f"status_{name}"] = audit_status_message(view_after(*REQUESTER_CASES[name]), CTX)
    lifecycle: list[Message] = [
        f.submitted(),
        f.approval_requested(),
        f.refused(),
        f.approved(),
        f.applied(),
        f.extension_requested(),
        f.extension_approved(),
        f.extended(),
        f.extension_denied(),
        f.grant_failed(extension_id=f.EXTENSION_ID),
        f.revoke_refused(),
        f.revoked(),
        f.grant_expired(),
        f.denied(),
        f.request_expired(),
        f.cancelled(),
        f.rejected(),
        f.grant_failed(),
        f.approved(mode=ApprovalMode.AUTO),
    ]
    view = RequestView(request_id=f.REQUEST_ID)
    for index, event in enumerate(lifecycle):
        view = fold(view, event)
        step = audit_step_message(event, view)
        assert step is not None, type(event).__name__
        rendered[f"step_{index:02d}_{type(event).__name__}"] = step
    alert = break_glass_alert(
        view_after(f.submitted(), f.approved(mode=ApprovalMode.BREAK_GLASS)), CTX
    )
    assert alert is not None
    rendered["break_glass_alert"] = alert
    f.assert_golden("audit_messages", _all(rendered))


def test_an_extension_nobody_had_to_approve_says_so_in_the_audit_thread() -> None:
    auto = f.extension_approved().model_copy(update={"approvers": []})
    view = view_after(*ACTIVE, f.extension_requested())
    step = audit_step_message(auto, fold(view, auto))
    assert step is not None
    assert step.text == (
        ":white_check_mark: Extension of 1h approved at once: "
        "the profile needs no approver's decision for it."
    )


def test_break_glass_alert_is_loud_and_only_for_break_glass() -> None:
    alert = break_glass_alert(
        view_after(f.submitted(), f.approved(mode=ApprovalMode.BREAK_GLASS)), CTX
    )
    assert alert is not None
    assert "<!here>" in alert.text
    assert ":rotating_light:" in alert.text
    assert break_glass_alert(view_after(*PENDING, f.approved()), CTX) is None


def test_notices_golden() -> None:
    view = view_after(*PENDING)
    rendered = {
        "refused_decision": refusal_message(f.refused(), view, CTX),
        "refused_revoke": refusal_message(f.revoke_refused(), view, CTX),
        "refused_unknown_request": refusal_message(
            f.refused(), RequestView(request_id=f.REQUEST_ID), CTX
        ),
        "channel_problem": channel_problem_message("C0GONE001", "is_archived", view),
        "approver_problem": approver_problem_message("bob@example.com", "users_not_found", view),
    }
    f.assert_golden("notices", _all(rendered))


def test_every_message_is_valid_block_kit() -> None:
    views = [view_after(*events) for events in REQUESTER_CASES.values()]
    checked = 0
    for view in views:
        messages = [requester_message(view, CTX), audit_status_message(view, CTX)]
        if view.approvers:
            messages.append(approver_message(view, CTX))
        if view.latest_extension is not None:
            messages.append(approver_message(view, CTX, view.latest_extension))
        for message in messages:
            assert message.text
            for block in message.blocks:
                block.validate_json()  # slack_sdk checks Block Kit's limits
            # and the emulator checks what Slack would refuse (e.g. duplicate block ids)
            assert validate_message_blocks(message.blocks_json()) == []
            checked += 1
    assert checked > 30


def test_slack_date_renders_in_each_readers_time_zone() -> None:
    moment = datetime(2026, 11, 30, 9, 15, 42, tzinfo=UTC)
    assert slack_date(moment) == (
        "<!date^1796030142^{date_short_pretty} {time}|2026-11-30 09:15 UTC>"
    )


def test_user_text_is_escaped_and_people_listed() -> None:
    assert escape("a <b> & c") == "a &lt;b&gt; &amp; c"
    who = [Person(email="a@example.com", slack_user_id="U1"), Person(email="b@example.com")]
    assert people(who) == "<@U1> and b@example.com"
    assert people([*who, Person(email="c@example.com", name="C")]) == ("<@U1>, b@example.com and C")


def test_device_link_uses_the_first_tailscale_ipv4() -> None:
    device = f.DEVICE.model_copy(update={"addresses": ["fd7a:115c:a1e0::1", "100.64.0.9"]})
    assert device_url("https://console.example/machines/", device) == (
        "https://console.example/machines/100.64.0.9"
    )
    assert device_url(f.ADMIN_URL, device.model_copy(update={"addresses": []})) is None


def test_audit_says_why_auto_approval_did_not_apply_golden() -> None:
    """The audit thread's step for a request `auto_approve` covered but held (issue 15 #7)."""
    outside = AutoApprovalFacts(
        code=AutoApprovalHeld.OUTSIDE_HOURS, hours="Mon-Fri 08:00-18:00 Europe/Berlin"
    )
    over = AutoApprovalFacts(
        code=AutoApprovalHeld.OVER_DAILY_BUDGET, limit_count=3, day="2026-11-30"
    )
    cases = {
        "outside_hours": f.approval_requested().model_copy(update={"auto_approval": outside}),
        "over_daily_budget": f.approval_requested().model_copy(update={"auto_approval": over}),
        "extension_outside_hours": f.extension_requested().model_copy(
            update={"auto_approval": outside}
        ),
        "not_covered": f.approval_requested(),
    }
    view = view_after(f.submitted())
    rendered: dict[str, SlackMessage] = {}
    for name, event in cases.items():
        step = audit_step_message(event, view)
        assert step is not None
        rendered[name] = step
    assert "outside its hours (Mon-Fri 08:00-18:00 Europe/Berlin)" in rendered["outside_hours"].text
    assert "already had 3 auto-approvals of this profile on 2026-11-30 (the daily limit)" in (
        rendered["over_daily_budget"].text
    )
    assert "auto-approved" not in rendered["not_covered"].text
    f.assert_golden("audit_auto_approval", _all(rendered))
