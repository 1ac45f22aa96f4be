"""Refused clicks are worded here, from the facts approvals and grants put in the events.

Golden: `golden/refusal_wording.json` (`UPDATE_GOLDEN=1` rewrites it; review the diff).
"""

from __future__ import annotations

from typing import Any

from services.notifier.domain.audit_messages import audit_step_message
from services.notifier.domain.context import NotifyContext
from services.notifier.domain.notices import refusal_message
from services.notifier.domain.request_view import RequestView, fold
from shared.contracts.events import (
    DecisionRefused,
    RefusalFacts,
    RefusalReason,
    RefusalWording,
    RevokeRefused,
)
from shared.contracts.events import RefusalWording as W
from tests.notifier import notifier_factories as f

CTX = NotifyContext(admin_url=f.ADMIN_URL, channels=(f.AUDIT_CHANNEL,))
EXTENSION_ID = "01JDQ4A2B3C4D5E6F7G8H9J0KM"
HOUR = 3600


def _decision(
    facts: RefusalFacts, action: str = "approve", *, extension: bool = False
) -> DecisionRefused:
    return DecisionRefused.model_validate(
        {
            "request_id": f.REQUEST_ID,
            "actor": f.MALLORY,
            "action": action,
            "code": RefusalReason.NOT_ELIGIBLE,
            "message": "(the producer's English, for SIEM readers)",
            "facts": facts,
            "extension_id": EXTENSION_ID if extension else None,
        }
    )


def _revoke(facts: RefusalFacts) -> RevokeRefused:
    return RevokeRefused(
        request_id=f.REQUEST_ID,
        actor=f.MALLORY,
        code=RefusalReason.NOT_ELIGIBLE,
        message="(the producer's English, for SIEM readers)",
        facts=facts,
    )


CASES: dict[str, DecisionRefused | RevokeRefused] = {
    "unknown_request": _decision(RefusalFacts(wording=W.UNKNOWN_REQUEST)),
    "unknown_extension": _decision(RefusalFacts(wording=W.UNKNOWN_EXTENSION), extension=True),
    "not_pending_request": _decision(RefusalFacts(wording=W.NOT_PENDING, state="approved")),
    "not_pending_extension": _decision(
        RefusalFacts(wording=W.NOT_PENDING, state="expired"), extension=True
    ),
    "own_request": _decision(RefusalFacts(wording=W.OWN_REQUEST, subject="Production")),
    "not_approver": _decision(RefusalFacts(wording=W.NOT_APPROVER, subject="Production"), "deny"),
    "profile_gone": _decision(
        RefusalFacts(wording=W.PROFILE_GONE, subject="prod"), "extend", extension=True
    ),
    "already_decided": _decision(RefusalFacts(wording=W.ALREADY_DECIDED)),
    "only_requester_cancel": _decision(RefusalFacts(wording=W.ONLY_REQUESTER), "cancel"),
    "only_requester_extend": _decision(
        RefusalFacts(wording=W.ONLY_REQUESTER), "extend", extension=True
    ),
    "nothing_active_extend": _decision(
        RefusalFacts(wording=W.NOTHING_ACTIVE), "extend", extension=True
    ),
    "nothing_active_revoke": _revoke(RefusalFacts(wording=W.NOTHING_ACTIVE)),
    "access_ended": _decision(RefusalFacts(wording=W.ACCESS_ENDED), extension=True),
    "extension_waiting": _decision(
        RefusalFacts(wording=W.EXTENSION_WAITING), "extend", extension=True
    ),
    "over_one_extension": _decision(
        RefusalFacts(
            wording=W.OVER_ONE_EXTENSION,
            subject="Production",
            seconds=9 * HOUR,
            limit_seconds=8 * HOUR,
        ),
        "extend",
        extension=True,
    ),
    "over_total": _decision(
        RefusalFacts(
            wording=W.OVER_TOTAL, subject="Production", seconds=13 * HOUR, limit_seconds=12 * HOUR
        ),
        "extend",
        extension=True,
    ),
    "may_not_revoke": _revoke(RefusalFacts(wording=W.MAY_NOT_REVOKE, subject="Production")),
    "not_active_any_more": _revoke(RefusalFacts(wording=W.NOT_ACTIVE_ANY_MORE, state="expired")),
}


def _view() -> RequestView:
    view = RequestView(request_id=f.REQUEST_ID)
    for event in (f.submitted(), f.approval_requested()):
        view = fold(view, event)
    return view


def test_every_wording_has_a_golden_case() -> None:
    assert {event.facts.wording for event in CASES.values() if event.facts} == set(RefusalWording)


def test_refusals_are_worded_from_their_facts_golden() -> None:
    view = _view()
    rendered: dict[str, Any] = {}
    for name, event in CASES.items():
        audit = audit_step_message(event, view)
        assert audit is not None
        dm = refusal_message(event, view, CTX)
        assert "producer's English" not in dm.text + audit.text  # the facts, not the message
        rendered[name] = {"dm": dm.as_json(), "audit_step": audit.text}
    f.assert_golden("refusal_wording", rendered)


def test_an_older_event_without_facts_shows_its_own_sentence() -> None:
    event = f.refused()
    assert event.facts is None
    assert event.message in refusal_message(event, _view(), CTX).text
