"""The audit feed: one status message per request and channel, a thread reply per step,
and a loud alert for break-glass access.
"""

from __future__ import annotations

from services.notifier.domain.context import NotifyContext
from services.notifier.domain.formatting import duration, name, people, person, slack_date
from services.notifier.domain.grant_outcome import access_continues
from services.notifier.domain.message_parts import (
    device_label,
    line,
    profile_label,
    quote,
    request_id_context,
    section,
    status_section,
)
from services.notifier.domain.notices import refusal_explanation
from services.notifier.domain.nudge_messages import escalation_step, reminder_step
from services.notifier.domain.request_view import Phase, RequestView
from services.notifier.domain.requester_message import approval_phrase, waiting_for
from services.notifier.domain.slack_message import SlackMessage
from services.notifier.domain.votes import had, tally
from shared.contracts.events import (
    ApprovalCounted,
    ApprovalEscalated,
    ApprovalMode,
    ApprovalReminded,
    ApprovalRequested,
    DecisionRefused,
    ExtensionApproved,
    ExtensionDenied,
    GrantApplied,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
    Message,
    RequestApproved,
    RequestCancelled,
    RequestDenied,
    RequestExpired,
    RequestRejected,
    RevokeRefused,
    SubmitRequest,
)
from shared.slack_ids import BlockId
from shared.slack_limits import Part, user_text
from shared.wording import auto_approval_text, rule_text


def _pending_status(view: RequestView) -> str:
    who = waiting_for(view.everyone_asked, view.approvals_required)
    pending = f":hourglass_flowing_sand: *Pending*: waiting for {who}"
    if view.approvals:
        return f"{pending}; {had(view.approvals, view.approvals_required)} so far"
    return pending


def _expired_status(view: RequestView) -> str:
    if view.approvals:
        return f":hourglass: *Expired* with {had(view.approvals, view.approvals_required)}"
    return ":hourglass: *Expired* unanswered"


def audit_status(view: RequestView) -> str:  # noqa: PLR0911 - one return per case of a closed set reads best as a match
    """Where the request stands, in the third person."""
    match view.phase:
        case Phase.SUBMITTED:
            return ":inbox_tray: *Submitted*"
        case Phase.PENDING:
            return _pending_status(view)
        case Phase.APPROVED:
            how = approval_phrase(view.approval_mode, view.approved_by, requester="the requester")
            return f":gear: *Approved*{how}; applying"
        case Phase.ACTIVE:
            until = slack_date(view.grant_expires_at) if view.grant_expires_at else "?"
            return f":white_check_mark: *Active* until {until}"
        case Phase.DENIED:
            by = f" by {person(view.denied_by)}" if view.denied_by else ""
            why = (": ", quote(view.deny_reason)) if view.deny_reason else ()
            given = (f"; it had {had(view.approvals, view.approvals_required)}",)
            return line(f":x: *Denied*{by}", *why, *(given if view.approvals else ()))
        case Phase.EXPIRED:
            return _expired_status(view)
        case Phase.CANCELLED:
            by = f" by {person(view.ended_by)}" if view.ended_by else ""
            return f":heavy_multiplication_x: *Cancelled*{by}"
        case Phase.REJECTED:
            return f":no_entry: *Rejected*: {len(view.problems)} problem(s) with the submission"
        case Phase.FAILED:
            code = (user_text(view.failure_code, " (`", "`)"),) if view.failure_code else ()
            return line(
                ":warning: *Failed*", *code, ": ", user_text(view.failure or "unknown error")
            )
        case Phase.REVOKED:
            by = f" by {person(view.ended_by)}" if view.ended_by else ""
            return f":lock: *Revoked*{by}"
        case Phase.ENDED:
            return ":lock: *Ended*: the grant expired"


def audit_status_message(view: RequestView, ctx: NotifyContext) -> SlackMessage:
    """The channel's one message about a request, updated in place."""
    who = person(view.requester) if view.requester else "?"
    length = duration(view.duration_seconds) if view.duration_seconds else "?"
    headline = f"*{profile_label(view, ctx)}* access for {who} on {device_label(view)}, {length}"
    status = audit_status(view)
    blocks = (
        section(BlockId.SUMMARY, headline, "\n*Reason:* ", quote(view.reason)),
        status_section(status),
        request_id_context(view.request_id),
    )
    return SlackMessage(text=f"{headline}: {status}", blocks=blocks)


def _auto_held(event: ApprovalRequested) -> tuple[Part, ...]:
    """Why auto-approval did not apply, when it covered the request (profiles.yaml's
    window text is escaped like anything not written here)."""
    if event.auto_approval is None:
        return ()
    return (user_text(auto_approval_text(event.auto_approval), " "),)


def _step_text(event: Message, view: RequestView) -> str | None:
    parts = _step_parts(event, view)
    return None if parts is None else line(*parts)


def _step_parts(event: Message, view: RequestView) -> tuple[Part, ...] | None:  # noqa: PLR0911, PLR0912 - one case per event type
    match event:
        case SubmitRequest():
            return (
                f":inbox_tray: {person(event.requester)} asked for "
                f"{duration(event.duration_seconds)}: ",
                quote(event.reason),
            )
        case ApprovalRequested(extension_id=None):
            who = waiting_for(event.approvers, event.approvals_required)
            asked = f":bell: Asked {who} to approve, by {slack_date(event.expires_at)}."
            return (asked, *_auto_held(event))
        case ApprovalRequested():
            more = duration(event.additional_seconds) if event.additional_seconds else "?"
            who = waiting_for(event.approvers, event.approvals_required)
            return (
                f":bell: Extension of {more} asked (",
                quote(event.reason),
                f"); asked {who}.",
                *_auto_held(event),
            )
        case ApprovalReminded():
            return (reminder_step(event),)
        case ApprovalEscalated():
            return (escalation_step(event),)
        case ApprovalCounted():
            what = "the extension" if event.extension_id else "the request"
            return (
                f":ballot_box_with_check: {person(event.approver)} approved {what}: "
                f"{tally(event.approvals, event.approvals_required)} so far.",
            )
        case RequestApproved():
            how = approval_phrase(event.mode, event.approvers, requester="the requester")
            return (f":white_check_mark: Approved{how}.",)
        case RequestDenied():
            by = f":x: Denied by {person(event.denied_by)}"
            if view.approvals:
                quoted = (": ", quote(event.reason)) if event.reason else ()
                return (by, *quoted, f"; it had {had(view.approvals, view.approvals_required)}.")
            return (by, *((": ", quote(event.reason)) if event.reason else (".",)))
        case RequestExpired():
            when = slack_date(event.expired_at)
            if view.approvals:
                return (
                    f":hourglass: Expired {when} with "
                    f"{had(view.approvals, view.approvals_required)}.",
                )
            return (f":hourglass: Expired unanswered {when}.",)
        case RequestCancelled():
            return (f":heavy_multiplication_x: Cancelled by {person(event.cancelled_by)}.",)
        case RequestRejected():
            problems = [
                part
                for index, p in enumerate(event.problems)
                for part in (
                    user_text(p.field, "; " if index else "", ": "),
                    user_text(rule_text(p.facts) if p.facts else p.message),
                )
            ]
            return (":no_entry: Rejected: ", *problems)
        case DecisionRefused():
            return (
                f":no_entry_sign: {person(event.actor)} pressed {event.action}; it did not count "
                f"(`{event.code.value}`): ",
                user_text(refusal_explanation(event)),
            )
        case ExtensionApproved():
            # No approvers: auto-approval, self-approval or break-glass let it through.
            by = (
                f" by {people(event.approvers)}"
                if event.approvers
                else " at once: the profile needs no approver's decision for it"
            )
            return (
                f":white_check_mark: Extension of {duration(event.additional_seconds)} "
                f"approved{by}.",
            )
        case ExtensionDenied():
            by = f" by {person(event.denied_by)}" if event.denied_by else ""
            reason = rule_text(event.facts) if event.facts else event.reason
            why = (": ", quote(reason)) if reason else (".",)
            return (f":x: Extension denied{by}", *why)
        case GrantApplied():
            return (
                f":unlock: `{name(event.attribute)}` set on {device_label(view)}, "
                f"until {slack_date(event.expires_at)}.",
            )
        case GrantFailed():
            what = "Extension could not be applied" if event.extension_id else "Could not apply"
            return (
                f":warning: {what} ",
                user_text(event.error_code, "(`", "`): "),
                user_text(event.message),
            )
        case GrantExtended():
            return (
                f":clock3: Extended until {slack_date(event.expires_at)} "
                f"(was {slack_date(event.previous_expires_at)}).",
            )
        case GrantRevoked():
            why = (": ", quote(event.reason)) if event.reason else (".",)
            kept = access_continues(view)
            continues = (f"\n{kept}",) if kept else ()
            return (f":lock: Revoked by {person(event.revoked_by)}", *why, *continues)
        case GrantExpired():
            when = slack_date(event.expired_at)
            if (kept := access_continues(view)) is not None:
                return (f":lock: Grant expired {when}. {kept}",)
            return (f":lock: Grant expired {when}; attribute removed.",)
        case RevokeRefused():
            return (
                f":no_entry_sign: {person(event.actor)} pressed revoke; it did not count "
                f"(`{event.code.value}`): ",
                user_text(refusal_explanation(event)),
            )
    return None


def audit_step_message(event: Message, view: RequestView) -> SlackMessage | None:
    """A thread reply recording one lifecycle step; None for events with no step."""
    text = _step_text(event, view)
    if text is None:
        return None
    return SlackMessage(text=text, blocks=(status_section(text),))


def break_glass_alert(view: RequestView, ctx: NotifyContext) -> SlackMessage | None:
    """A top-level `@here` message when access was taken break-glass; None otherwise."""
    if view.approval_mode is not ApprovalMode.BREAK_GLASS:
        return None
    who = person(view.requester) if view.requester else "Someone"
    length = duration(view.duration_seconds) if view.duration_seconds else "?"
    text = line(
        f":rotating_light: <!here> *Break-glass access*: {who} took "
        f"*{profile_label(view, ctx)}* on {device_label(view)} for {length}, "
        "without approval.\n*Reason:* ",
        quote(view.reason),
    )
    blocks = (status_section(text), request_id_context(view.request_id))
    return SlackMessage(text=text, blocks=blocks)
