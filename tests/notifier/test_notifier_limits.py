"""Messages at the maxima of what people may type: every text within Slack's limits.

Golden JSON pins what is shown (tests/notifier/golden/limits_*.json); every message is
also checked by the Slack emulator's Block Kit validator and by slack_sdk's models.
"""

from __future__ import annotations

import re
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
from services.notifier.domain.request_view import RequestView, fold
from services.notifier.domain.requester_message import requester_message
from services.notifier.domain.slack_message import SlackMessage
from shared.contracts.events import ApprovalMode, Message, Person
from shared.slack_limits import MAX_REASON, escape_mrkdwn
from tests.notifier import notifier_factories as f

CTX = NotifyContext(admin_url=f.ADMIN_URL, channels=(f.AUDIT_CHANNEL,))

LETTERS = ("abcdefghij" * 300)[:MAX_REASON]
SPECIAL = ("&<>" * MAX_REASON)[:MAX_REASON]  # grows fourfold when escaped
REASONS = {"letters": LETTERS, "special": SPECIAL}
ENTITY_OR_TOKEN = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>")


def _with(event: Message, **changes: Any) -> Message:
    return event.model_copy(update=changes)


def _fold(*events: Message) -> RequestView:
    view = RequestView(request_id=f.REQUEST_ID)
    for event in events:
        view = fold(view, event)
    return view


def _messages_for_reason(reason: str) -> dict[str, SlackMessage]:
    """Every message that shows one of the four kinds of reason, at that reason."""
    submitted = _with(f.submitted(), reason=reason)
    asked = _with(f.approval_requested(), reason=reason)
    pending = (submitted, asked)
    active = (*pending, _with(f.approved(), reason=reason), f.applied())
    denied = _with(f.denied(), reason=reason)
    revoked = _with(f.revoked(), reason=reason)
    ext_asked = _with(f.extension_requested(), reason=reason)
    ext_denied = _with(f.extension_denied(), reason=reason)
    messages: dict[str, SlackMessage | None] = {}

    view = _fold(*pending)
    messages["request_requester"] = requester_message(view, CTX)
    messages["request_approver"] = approver_message(view, CTX)
    messages["request_audit"] = audit_status_message(view, CTX)
    messages["request_step"] = audit_step_message(submitted, _fold(submitted))
    glass = _fold(submitted, _with(f.approved(mode=ApprovalMode.BREAK_GLASS), reason=reason))
    messages["request_break_glass_alert"] = break_glass_alert(glass, CTX)

    view = _fold(*pending, denied)
    messages["deny_requester"] = requester_message(view, CTX)
    messages["deny_approver"] = approver_message(view, CTX)
    messages["deny_audit"] = audit_status_message(view, CTX)
    messages["deny_step"] = audit_step_message(denied, view)

    view = _fold(*active, revoked)
    messages["revoke_requester"] = requester_message(view, CTX)
    messages["revoke_step"] = audit_step_message(revoked, view)

    view = _fold(*active, ext_asked)
    messages["extension_approver"] = approver_message(view, CTX, view.latest_extension)
    messages["extension_step"] = audit_step_message(ext_asked, view)
    view = _fold(*active, ext_asked, ext_denied)
    messages["extension_deny_requester"] = requester_message(view, CTX)
    messages["extension_deny_approver"] = approver_message(view, CTX, view.latest_extension)
    messages["extension_deny_step"] = audit_step_message(ext_denied, view)
    assert all(m is not None for m in messages.values())
    return {name: m for name, m in messages.items() if m is not None}


def _texts(message: SlackMessage) -> list[str]:
    found = [message.text]
    for block in message.blocks_json():
        if isinstance(block.get("text"), dict):
            found.append(block["text"]["text"])
        found += [item["text"] for item in block.get("fields", [])]
        found += [e["text"] for e in block.get("elements", []) if e.get("type") == "mrkdwn"]
    return found


def assert_showable(message: SlackMessage) -> None:
    """Slack would accept it, and no escape entity or token was cut in half."""
    blocks = message.blocks_json()
    assert validate_message_blocks(blocks) == []
    for block in message.blocks:
        block.validate_json()
    for text in _texts(message):
        rest = ENTITY_OR_TOKEN.sub("", text)
        assert "&" not in rest, f"a cut entity in {text[-40:]!r}"
        assert "<" not in rest, f"a cut token in {text[-40:]!r}"
        assert ">" not in rest, f"a cut token in {text[-40:]!r}"


@pytest.mark.parametrize("kind", sorted(REASONS))
def test_messages_with_the_longest_reasons_golden(kind: str) -> None:
    reason = REASONS[kind]
    rendered = _messages_for_reason(reason)
    escaped = escape_mrkdwn(reason)
    for name, message in rendered.items():
        assert_showable(message)
        # the reason is shown (shortened, with an ellipsis, when it must be)
        assert any(escaped[:200] in text for text in _texts(message)), name
    f.assert_golden(f"limits_reason_{kind}", {n: m.as_json() for n, m in rendered.items()})


def test_letters_fit_whole_where_there_is_room() -> None:
    """3,000 letters fill a section's text only with the words around them clipped."""
    message = _messages_for_reason(LETTERS)["request_approver"]
    summary = message.blocks_json()[0]["text"]["text"]
    assert len(summary) <= 3000
    assert summary.endswith("…”"), "the reason is clipped inside its quotes"


def test_a_deny_reason_of_3000_special_characters_reaches_the_requester() -> None:
    message = _messages_for_reason(SPECIAL)["deny_requester"]
    status = message.blocks_json()[0]["text"]["text"]
    assert status.startswith(":x: *Denied*")
    assert "&amp;&lt;&gt;" in status
    assert "Waiting for approval" not in message.text


def _many_approvers(count: int = 60, length: int = 60) -> list[Person]:
    people = []
    for index in range(count):
        local = f"approver{index:02d}."
        email = f"{local}{'x' * (length - len(local) - len('@example.com'))}@example.com"
        assert len(email) == length
        people.append(Person(email=email))
    return people


def test_sixty_approvers_with_long_emails_golden() -> None:
    approvers = _many_approvers()
    asked = _with(f.approval_requested(), approvers=approvers, approvals_required=2)
    long_host = "h" * 63
    device = f.DEVICE.model_copy(update={"hostname": long_host, "name": f"{long_host}.ts.net"})
    asked_on_long_host = _with(asked, device=device)
    view = _fold(f.submitted(), asked_on_long_host)
    rendered = {
        "requester_pending": requester_message(view, CTX),
        "approver_pending": approver_message(view, CTX),
        "audit_pending": audit_status_message(view, CTX),
        "audit_step_asked": audit_step_message(asked_on_long_host, view),
    }
    approved = _with(f.approved(), approvers=approvers)
    rendered["requester_approved"] = requester_message(_fold(f.submitted(), asked, approved), CTX)
    shown: dict[str, Any] = {}
    for name, message in rendered.items():
        assert message is not None
        assert_showable(message)
        shown[name] = message.as_json()
    pending = rendered["requester_pending"]
    assert pending is not None
    assert "more." in _texts(pending)[1], "the list of approvers is summarised"
    assert long_host in str(shown["approver_pending"]), "a 63-character device name is whole"
    f.assert_golden("limits_many_approvers", shown)
