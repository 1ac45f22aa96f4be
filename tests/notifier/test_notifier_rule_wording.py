"""Rules that refused a submission or an extension are worded here, from their facts.

Golden: `golden/rule_wording.json` (`UPDATE_GOLDEN=1` rewrites it; review the diff).
"""

from __future__ import annotations

from typing import Any

from services.notifier.domain.audit_messages import audit_step_message
from services.notifier.domain.context import NotifyContext
from services.notifier.domain.request_view import RequestView, fold
from services.notifier.domain.requester_message import requester_message
from shared.contracts.events import (
    EXAMPLE_REQUEST_ID,
    ExtensionDenied,
    Message,
    Problem,
    RequestRejected,
    RuleFacts,
    RuleWording,
)
from shared.contracts.events import RuleWording as R
from tests.notifier import notifier_factories as f

CTX = NotifyContext(admin_url=f.ADMIN_URL, channels=(f.AUDIT_CHANNEL,))
PRODUCER_TEXT = "(the producer's English, for SIEM readers)"
HOUR = 3600

PROBLEMS: dict[str, tuple[str, RuleFacts]] = {
    "unknown_device": ("device", RuleFacts(wording=R.UNKNOWN_DEVICE, value="nGONE")),
    "unknown_profile": ("profile", RuleFacts(wording=R.UNKNOWN_PROFILE, value="nope")),
    "too_long": (
        "duration",
        RuleFacts(wording=R.TOO_LONG, subject="Production", seconds=9 * HOUR, limit_seconds=HOUR),
    ),
    "reason_required": ("reason", RuleFacts(wording=R.REASON_REQUIRED, subject="Production")),
    "reason_too_long": ("reason", RuleFacts(wording=R.REASON_TOO_LONG, limit_count=3000)),
    "tagged_device": (
        "device",
        RuleFacts(wording=R.TAGGED_DEVICE, value="ci-runner", subject="Production"),
    ),
    "not_your_device": (
        "device",
        RuleFacts(wording=R.NOT_YOUR_DEVICE, value="bob-laptop", subject="Production"),
    ),
    "own_approval": ("approver", RuleFacts(wording=R.OWN_APPROVAL, subject="Production")),
    "not_an_approver": (
        "approver",
        RuleFacts(wording=R.NOT_AN_APPROVER, value="erin@example.com", subject="Production"),
    ),
    "too_few_approvers": (
        "approver",
        RuleFacts(wording=R.TOO_FEW_APPROVERS, subject="Production", count=1, limit_count=2),
    ),
    "already_active": (
        "device",
        RuleFacts(wording=R.ALREADY_ACTIVE, value=EXAMPLE_REQUEST_ID, subject="Production"),
    ),
    "already_requested": (
        "device",
        RuleFacts(wording=R.ALREADY_REQUESTED, value=EXAMPLE_REQUEST_ID, subject="Production"),
    ),
}
EXTENSION_RULES: dict[str, RuleFacts] = {
    "extension_reason_required": RuleFacts(wording=R.REASON_REQUIRED, subject="Production"),
    "too_few_for_extension": RuleFacts(wording=R.TOO_FEW_FOR_EXTENSION),
    "nobody_decided": RuleFacts(wording=R.NOBODY_DECIDED, seconds=HOUR),
}


def _rejected(field: str, facts: RuleFacts) -> RequestRejected:
    return RequestRejected(
        request_id=f.REQUEST_ID,
        requester=f.DAVE,
        profile_id=f.PROFILE,
        problems=[Problem(field=field, message=PRODUCER_TEXT, facts=facts)],
    )


def _denied_by_rule(facts: RuleFacts) -> ExtensionDenied:
    return ExtensionDenied(
        request_id=f.REQUEST_ID,
        requester=f.DAVE,
        profile_id=f.PROFILE,
        extension_id=f.EXTENSION_ID,
        reason=PRODUCER_TEXT,
        facts=facts,
    )


def _view(*events: Message) -> RequestView:
    view = RequestView(request_id=f.REQUEST_ID)
    for event in events:
        view = fold(view, event)
    return view


def test_every_rule_wording_has_a_golden_case() -> None:
    covered = {facts.wording for _, facts in PROBLEMS.values()} | {
        facts.wording for facts in EXTENSION_RULES.values()
    }
    assert covered == set(RuleWording)


def test_rules_are_worded_from_their_facts_golden() -> None:
    rendered: dict[str, Any] = {}
    for name, (field, facts) in PROBLEMS.items():
        event = _rejected(field, facts)
        audit = audit_step_message(event, _view(f.submitted()))
        assert audit is not None
        rendered[name] = {"audit_step": audit.text}
    active = (f.submitted(), f.approval_requested(), f.approved(), f.applied())
    for name, facts in EXTENSION_RULES.items():
        denied = _denied_by_rule(facts)
        view = _view(*active, f.extension_requested(), denied)
        audit = audit_step_message(denied, view)
        assert audit is not None
        requester = requester_message(view, CTX)
        rendered[name] = {"audit_step": audit.text, "requester": requester.as_json()}
    assert PRODUCER_TEXT not in str(rendered)  # worded from the facts, not the text field
    f.assert_golden("rule_wording", rendered)


def test_a_person_s_deny_reason_is_still_quoted_as_written() -> None:
    active = (f.submitted(), f.approval_requested(), f.approved(), f.applied())
    view = _view(*active, f.extension_requested(), f.extension_denied())
    assert "Long enough" in requester_message(view, CTX).text + str(
        requester_message(view, CTX).as_json()
    )
