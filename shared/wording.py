"""The English sentences for refusals, composed from the facts in the events (pure).

A refused click (`RefusalFacts`) and a rule that refused a submission or an extension
(`RuleFacts`). The notifier shows them (golden-tested there). Approvals and grants only
call these to fill the events' older text fields (`message`, `reason`), which SIEM rules
may read; they compose no sentence of their own.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from shared.contracts.events import (
    AutoApprovalFacts,
    AutoApprovalHeld,
    RefusalFacts,
    RuleFacts,
    RuleWording,
)
from shared.contracts.events import RefusalWording as W
from shared.durations import format_duration

_ONLY_REQUESTER = {
    "cancel": "Only the requester can cancel this request.",
    "extend": "Only the requester can extend this access.",
}
_NOTHING_ACTIVE = {
    "extend": "There is no active access to extend.",
    "revoke": "There is no active access to revoke for this request.",
}


def slack_date(moment: datetime) -> str:
    """A date Slack renders in each reader's own time zone; the fallback is UTC (mrkdwn)."""
    epoch = int(moment.timestamp())
    fallback = moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"<!date^{epoch}^{{date_short_pretty}} {{time}}|{fallback}>"


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


def rule_text(facts: RuleFacts) -> str:  # noqa: PLR0911, PLR0912 - one case per wording, side by side
    """What a rule found wrong with a submission, or why it denied an extension."""
    subject = facts.subject or "this profile"
    match facts.wording:
        case RuleWording.UNKNOWN_DEVICE:
            return f"Device {facts.value} is unknown (not in the Tailscale inventory)."
        case RuleWording.UNKNOWN_PROFILE:
            return f"There is no access profile {facts.value!r}."
        case RuleWording.TOO_LONG:
            return (
                f"{_duration(facts.seconds)} is longer than {subject} allows "
                f"({_duration(facts.limit_seconds)})."
            )
        case RuleWording.REASON_REQUIRED:
            return f"{subject} requires a reason."
        case RuleWording.REASON_TOO_LONG:
            return f"The reason is over {facts.limit_count} characters."
        case RuleWording.TAGGED_DEVICE:
            return (
                f"{facts.value} is a tagged device; {subject} is only for your own "
                "untagged devices."
            )
        case RuleWording.NOT_YOUR_DEVICE:
            return f"{facts.value} is not yours; {subject} is only for your own devices."
        case RuleWording.OWN_APPROVAL:
            return f"You cannot approve your own request for {subject}."
        case RuleWording.NOT_AN_APPROVER:
            return f"{facts.value} is not an approver for {subject}."
        case RuleWording.TOO_FEW_APPROVERS:
            return (
                f"{subject} needs {facts.limit_count} approval(s) but only {facts.count} "
                "person(s) may approve your request."
            )
        case RuleWording.TOO_FEW_FOR_EXTENSION:
            return "Not enough people may approve this extension."
        case RuleWording.NOBODY_DECIDED:
            return f"Nobody decided within {_duration(facts.seconds)}."
        case RuleWording.ALREADY_ACTIVE:
            return (
                f"{subject} is already active on this device under request {facts.value}: "
                "one grant per device and profile. Ask for more time with Extend on that "
                "request instead."
            )
        case RuleWording.ALREADY_REQUESTED:
            return (
                f"{subject} is already asked for on this device under request {facts.value}, "
                "which is not over yet: one grant per device and profile. Wait for it, or "
                "cancel it first."
            )


def auto_approval_text(facts: AutoApprovalFacts) -> str:
    """Why a request `auto_approve` covers went to approvers (the audit channel's words)."""
    match facts.code:
        case AutoApprovalHeld.OUTSIDE_HOURS:
            return f"Not auto-approved: outside its hours ({facts.hours or '?'})."
        case AutoApprovalHeld.OVER_DAILY_BUDGET:
            count = facts.limit_count
            approvals = "auto-approval" if count == 1 else "auto-approvals"
            return (
                f"Not auto-approved: the requester already had {count or '?'} {approvals} "
                f"of this profile on {facts.day or 'this day'} (the daily limit)."
            )
