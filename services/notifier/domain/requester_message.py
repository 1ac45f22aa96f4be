"""The requester's DM: one message per request, updated in place as things happen.

Nothing here says access exists before the grant is applied (phase ACTIVE): an
approved request is "being applied", never "granted".
"""

from __future__ import annotations

from collections.abc import Sequence

from slack_sdk.models.blocks import ActionsBlock, Block

from services.notifier.domain.context import NotifyContext
from services.notifier.domain.formatting import duration, people, person, slack_date
from services.notifier.domain.grant_outcome import access_continues, after_failure
from services.notifier.domain.message_parts import (
    again_button,
    button,
    line,
    profile_label,
    quote,
    request_id_context,
    status_section,
    summary_fields,
)
from services.notifier.domain.nudge_messages import escalation_text
from services.notifier.domain.request_view import (
    TERMINAL_RANK,
    ExtensionPhase,
    ExtensionView,
    Phase,
    RequestView,
    rank,
)
from services.notifier.domain.slack_message import SlackMessage
from services.notifier.domain.votes import had, so_far
from shared.contracts.events import ApprovalMode, Person
from shared.slack_ids import ActionId, BlockId
from shared.slack_limits import Part, user_text


def waiting_for(approvers: Sequence[Person], required: int | None) -> str:
    """`alice and bob` (all needed), `alice, bob or carol` (one), `2 of alice, bob and carol`."""
    if not approvers:
        return "an approver"
    needed = required or 1
    if needed >= len(approvers):
        return people(approvers)
    if needed == 1:
        return people(approvers, "or")
    return f"{needed} of {people(approvers)}"


def approval_phrase(
    mode: ApprovalMode | None, approvers: Sequence[Person], *, requester: str = "you"
) -> str:
    """How a request was approved, to follow the word "Approved" (with a leading space)."""
    if mode is ApprovalMode.AUTO:
        return " automatically (the profile allows it for this requester)"
    if mode is ApprovalMode.BREAK_GLASS:
        return " as break-glass access (the audit channel was alerted)"
    if mode is ApprovalMode.SELF:
        return f" by {requester} (self-approval is allowed for this profile)"
    return f" by {people(approvers)}" if approvers else ""


def _pending(view: RequestView) -> str:
    text = (
        ":hourglass_flowing_sand: *Waiting for approval* from "
        f"{waiting_for(view.everyone_asked, view.approvals_required)}."
    )
    if view.request_expires_at is not None:
        text += f" If nobody decides, the request expires {slack_date(view.request_expires_at)}."
    more = [
        t for t in (so_far(view.approvals, view.approvals_required), escalation_text(view)) if t
    ]
    return line(text, *(f"\n{t}" for t in more)) if more else text


def _extension_line(ext: ExtensionView, view: RequestView) -> tuple[Part, ...]:
    """The latest extension's state, as parts of the ACTIVE status line."""
    more = f" of {duration(ext.additional_seconds)}" if ext.additional_seconds else ""
    until = slack_date(view.grant_expires_at) if view.grant_expires_at else "as before"
    match ext.phase:
        case ExtensionPhase.PENDING:
            who = waiting_for(ext.approvers, ext.approvals_required)
            progress = so_far(ext.approvals, ext.approvals_required)
            return (
                f":hourglass_flowing_sand: Extension{more}: waiting for approval from {who}.",
                *((f"\n{progress}",) if progress else ()),
            )
        case ExtensionPhase.APPROVED:
            return (f":gear: Extension{more} approved; applying it now.",)
        case ExtensionPhase.DENIED:
            by = f" by {people(ext.decided_by)}" if ext.decided_by else ""
            why = (": ", quote(ext.deny_reason)) if ext.deny_reason else ()
            return (f":x: Extension{more} denied{by}", *why, f". Your access still ends {until}.")
        case ExtensionPhase.APPLIED:
            return (f":white_check_mark: Extension{more} applied.",)
        case ExtensionPhase.FAILED:
            what = user_text(ext.failure or "unknown error")
            return (
                f":warning: Extension{more} could not be applied: ",
                what,
                f" Your access still ends {until}.",
            )


def _continues(view: RequestView) -> tuple[str, ...]:
    """A last line naming the grant the device keeps this access under, if any."""
    more = access_continues(view)
    return (f"\n{more}",) if more else ()


def status_line(view: RequestView) -> str:  # noqa: PLR0911 - one return per case of a closed set reads best as a match
    """Where the request stands, addressed to the requester."""
    match view.phase:
        case Phase.SUBMITTED:
            return ":inbox_tray: *Request received.* Checking it and asking the approvers…"
        case Phase.PENDING:
            return _pending(view)
        case Phase.APPROVED:
            return (
                f":gear: *Approved*{approval_phrase(view.approval_mode, view.approved_by)}. "
                "Applying it to your device now; this message changes once access is in place."
            )
        case Phase.ACTIVE:
            until = slack_date(view.grant_expires_at) if view.grant_expires_at else "?"
            granted = f":white_check_mark: *Access granted* until {until}."
            ext = view.latest_extension
            return granted if ext is None else line(granted, "\n", *_extension_line(ext, view))
        case Phase.DENIED:
            by = f" by {person(view.denied_by)}" if view.denied_by else ""
            why = (": ", quote(view.deny_reason)) if view.deny_reason else (".",)
            given = view.approvals and f"\nIt had {had(view.approvals, view.approvals_required)}."
            return line(f":x: *Denied*{by}", *why, *((given,) if given else ()))
        case Phase.EXPIRED:
            what = (
                f"with {had(view.approvals, view.approvals_required)}: not enough approvals "
                "in time."
                if view.approvals
                else ": nobody decided in time."
            )
            sep = " " if view.approvals else ""
            return (
                f":hourglass: *Expired*{sep}{what} Press *Request again* if you still need access."
            )
        case Phase.CANCELLED:
            return ":heavy_multiplication_x: *Cancelled.* Nothing was granted."
        case Phase.REJECTED:
            problems = [
                part
                for p in view.problems
                for part in (user_text(p.field, "\n• *", "*: "), user_text(p.message))
            ]
            return line(
                ":no_entry: *Not accepted*: the request did not pass the checks, so nobody "
                "was asked. Fix this and submit it again:",
                *problems,
            )
        case Phase.FAILED:
            code = (user_text(view.failure_code, " (`", "`)"),) if view.failure_code else ()
            return line(
                ":warning: *Access could not be applied*",
                *code,
                ": ",
                user_text(view.failure or "unknown error"),
                f"\n{after_failure(view)}",
            )
        case Phase.REVOKED:
            by = f" by {person(view.ended_by)}" if view.ended_by else ""
            when = f" {slack_date(view.ended_at)}" if view.ended_at else ""
            why = (": ", quote(view.end_reason)) if view.end_reason else (".",)
            return line(f":lock: *Access revoked*{by}{when}", *why, *_continues(view))
        case Phase.ENDED:
            when = f" {slack_date(view.ended_at)}" if view.ended_at else ""
            ended = f":lock: *Access ended*{when}: the time you asked for is over."
            return line(ended, *_continues(view))


def _actions(view: RequestView) -> ActionsBlock | None:
    rid = view.request_id
    if view.phase in (Phase.SUBMITTED, Phase.PENDING):
        elements = [button("Cancel request", ActionId.CANCEL, rid)]
    elif view.phase is Phase.ACTIVE:
        elements = [
            # the profile lets intake's Extend modal offer only durations it allows
            button("Extend", ActionId.EXTEND, rid, profile_id=view.profile_id, style="primary"),
            button("Revoke", ActionId.REVOKE, rid, style="danger"),
        ]
    elif rank(view.phase) == TERMINAL_RANK and (again := again_button(view)) is not None:
        elements = [again]  # over, whatever the outcome: the same form, filled in
    else:
        return None
    return ActionsBlock(block_id=BlockId.ACTIONS.value, elements=elements)


def requester_message(view: RequestView, ctx: NotifyContext) -> SlackMessage:
    """The requester's DM about `view`'s request, as it should look now."""
    status = status_line(view)
    blocks: list[Block] = [
        status_section(status),
        summary_fields(view, ctx),
        request_id_context(view.request_id),
    ]
    actions = _actions(view)
    if actions is not None:
        blocks.append(actions)
    text = f"Your {profile_label(view, ctx)} access request: {status}"
    return SlackMessage(text=text, blocks=tuple(blocks))
