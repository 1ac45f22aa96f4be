"""The English sentence for a refused click, composed from its facts (pure).

The notifier shows it to the clicker and in the audit thread (golden-tested there).
Approvals and grants only call it to fill the events' older `message` field, which SIEM
rules may read; they compose no sentence of their own.
"""

from __future__ import annotations

from datetime import timedelta

from shared.durations import format_duration
from shared.events import RefusalFacts
from shared.events import RefusalWording as W

_ONLY_REQUESTER = {
    "cancel": "Only the requester can cancel this request.",
    "extend": "Only the requester can extend this access.",
}
_NOTHING_ACTIVE = {
    "extend": "There is no active access to extend.",
    "revoke": "There is no active access to revoke for this request.",
}


def _duration(seconds: int | None) -> str:
    return format_duration(timedelta(seconds=seconds or 0))


def refusal_text(  # noqa: PLR0911, PLR0912 - one case per wording, side by side
    facts: RefusalFacts, action: str, *, about_extension: bool = False
) -> str:
    """Why a click on `action` (approve, deny, cancel, extend, revoke) did not count."""
    subject = facts.subject or "this profile"
    match facts.wording:
        case W.UNKNOWN_REQUEST:
            return "This request is unknown."
        case W.UNKNOWN_EXTENSION:
            return "This extension is unknown."
        case W.NOT_PENDING:
            what = "extension" if about_extension else "request"
            return f"This {what} is no longer pending: it is {facts.state or 'decided'}."
        case W.OWN_REQUEST:
            return f"You cannot decide your own request for {subject}."
        case W.NOT_APPROVER:
            return f"You are not an approver for {subject}."
        case W.PROFILE_GONE:
            return f"Profile {subject!r} no longer exists."
        case W.ALREADY_DECIDED:
            return "You have already decided on this request."
        case W.ONLY_REQUESTER:
            return _ONLY_REQUESTER.get(action, "Only the requester can do this.")
        case W.NOTHING_ACTIVE:
            return _NOTHING_ACTIVE.get(action, "There is no active access for this request.")
        case W.ACCESS_ENDED:
            return "The access this extension is for has ended."
        case W.EXTENSION_WAITING:
            return "An extension is already waiting for approval."
        case W.OVER_ONE_EXTENSION:
            return (
                f"{_duration(facts.seconds)} is more than {subject} allows at once "
                f"({_duration(facts.limit_seconds)})."
            )
        case W.OVER_TOTAL:
            return (
                f"That makes {_duration(facts.seconds)} in all; {subject} allows "
                f"{_duration(facts.limit_seconds)}."
            )
        case W.MAY_NOT_REVOKE:
            return (
                f"Only the requester, an approver of {subject} or an admin may revoke this access."
            )
        case W.NOT_ACTIVE_ANY_MORE:
            return f"This access is not active any more (it is {facts.state or 'ended'})."
