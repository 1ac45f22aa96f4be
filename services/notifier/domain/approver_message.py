"""An approver's DM: who asks for what, on which device, with Approve and Deny.

Every approver asked gets a copy; all copies are updated in place (buttons
removed) once the request or the extension is decided.
"""

from __future__ import annotations

from slack_sdk.models.blocks import ActionsBlock, Block, ButtonElement, SectionBlock

from services.notifier.domain.context import NotifyContext
from services.notifier.domain.formatting import (
    device_owner,
    device_url,
    duration,
    name,
    people,
    people_by_source,
    person,
    slack_date,
)
from services.notifier.domain.message_parts import (
    button,
    device_label,
    field,
    line,
    profile_label,
    quote,
    request_id_context,
    section,
    status_section,
)
from services.notifier.domain.nudge_messages import nudge_lines
from services.notifier.domain.request_view import ExtensionPhase, ExtensionView, Phase, RequestView
from services.notifier.domain.slack_message import SlackMessage
from services.notifier.domain.votes import counted_for_you, had, so_far
from shared.slack_ids import ActionId, BlockId


def request_outcome(view: RequestView) -> str | None:
    """What became of the request, for an approver; None while it waits for a decision."""
    match view.phase:
        case Phase.SUBMITTED | Phase.PENDING:
            return None
        case Phase.DENIED:
            by = f" by {person(view.denied_by)}" if view.denied_by else ""
            why = (": ", quote(view.deny_reason)) if view.deny_reason else (".",)
            return line(f":x: *Denied*{by}", *why, *_had(view))
        case Phase.EXPIRED:
            return _expired(view)
        case Phase.CANCELLED:
            return ":heavy_multiplication_x: *Cancelled* by the requester."
        case Phase.REJECTED:
            return ":no_entry: *Withdrawn*: the request no longer passes the checks."
        case _:
            by = f" by {people(view.approved_by)}" if view.approved_by else ""
            return f":white_check_mark: *Approved*{by}."


def _expired(view: RequestView) -> str:
    if view.approvals:
        given = had(view.approvals, view.approvals_required)
        return f":hourglass: *Expired* with {given}: not enough approvals in time."
    return ":hourglass: *Expired*: nobody decided in time."


def _had(view: RequestView) -> tuple[str, ...]:
    """A line naming the approvals a denied request had been given, if any."""
    if not view.approvals:
        return ()
    return (f"\nIt had {had(view.approvals, view.approvals_required)}.",)


def extension_outcome(ext: ExtensionView, view: RequestView) -> str | None:
    """What became of an extension, for an approver; None while it waits for a decision."""
    if ext.phase is ExtensionPhase.PENDING:
        if view.phase in (Phase.REVOKED, Phase.ENDED):
            return ":lock: *No longer needed*: the access has ended."
        return None
    if ext.phase is ExtensionPhase.DENIED:
        by = f" by {people(ext.decided_by)}" if ext.decided_by else ""
        why = (": ", quote(ext.deny_reason)) if ext.deny_reason else (".",)
        given = (
            (f"\nIt had {had(ext.approvals, ext.approvals_required)}.",) if ext.approvals else ()
        )
        return line(f":x: *Extension denied*{by}", *why, *given)
    by = f" by {people(ext.decided_by)}" if ext.decided_by else ""
    return f":white_check_mark: *Extension approved*{by}."


def _details(view: RequestView, expires: str | None, required: int | None) -> SectionBlock:
    fields = [field("Device", device_label(view))]
    if view.device is not None:
        label = "Tags" if view.device.tags else "Owner"
        fields.append(field(label, device_owner(view.device)))
        fields.append(field("OS", name(view.device.os or "unknown")))
    if expires is not None:
        fields.append(field("Decide by", expires))
    if required is not None and required > 1:
        fields.append(field("Approvals needed", str(required)))
    if view.approver_groups and view.approvers:
        # Who can decide, when Slack user groups made them approvers (resolved on opening),
        # grouped by where they came from. "a or b" when one answer decides; with a quorum
        # everyone listed is counted on.
        conjunction = "or" if (required or 1) == 1 else "and"
        who = people_by_source(
            view.approvers, view.approver_groups, view.group_members, conjunction
        )
        fields.append(field("Asked", who))
    return SectionBlock(block_id=BlockId.DEVICE.value, fields=fields)


def _buttons(view: RequestView, ctx: NotifyContext, extension_id: str | None) -> ActionsBlock:
    rid = view.request_id
    elements: list[ButtonElement] = [
        button("Approve", ActionId.APPROVE, rid, extension_id=extension_id, style="primary"),
        button("Deny", ActionId.DENY, rid, extension_id=extension_id, style="danger"),
    ]
    url = device_url(ctx.admin_url, view.device) if view.device is not None else None
    if url is not None:
        elements.append(
            ButtonElement(text="Open in Tailscale", action_id=ActionId.OPEN_DEVICE.value, url=url)
        )
    return ActionsBlock(block_id=BlockId.ACTIONS.value, elements=elements)


def approver_message(
    view: RequestView,
    ctx: NotifyContext,
    extension: ExtensionView | None = None,
    *,
    counted: bool = False,
    reminded: bool = True,
) -> SlackMessage:
    """An approver's copy, for the request or (with `extension`) one of its extensions.

    `counted`: the copy of an approver whose approval counted while more are needed (it
    says so instead of offering the buttons again). `reminded`: False for a fallback
    approver asked after the reminders (their first ask carries no reminder line)."""
    who = person(view.requester) if view.requester else "Someone"
    profile = profile_label(view, ctx)
    if extension is None:
        length = duration(view.duration_seconds) if view.duration_seconds else "?"
        ask = f"{who} asks for *{profile}* access for *{length}*."
        reason, expires_at = view.reason, view.request_expires_at
        required, outcome = view.approvals_required, request_outcome(view)
        approvals = view.approvals
    else:
        more = duration(extension.additional_seconds) if extension.additional_seconds else "?"
        ask = f"{who} asks to extend *{profile}* access: extension of *{more}* more."
        reason, expires_at = extension.reason, extension.request_expires_at
        required, outcome = extension.approvals_required, extension_outcome(extension, view)
        approvals = extension.approvals
    if outcome is None and counted and approvals:
        outcome = counted_for_you(approvals, required)
    expires = slack_date(expires_at) if expires_at is not None else None
    blocks: list[Block] = [
        section(BlockId.SUMMARY, ask, "\n*Reason:* ", quote(reason)),
        _details(view, expires if outcome is None else None, required),
        request_id_context(view.request_id),
    ]
    nudged = nudge_lines(view, reminded=reminded) if extension is None else None
    progress = so_far(approvals, required)
    shown = "\n".join(t for t in (progress, nudged) if t is not None)
    if outcome is None and shown:
        blocks.insert(1, section(BlockId.NUDGE, shown))
    if outcome is None:
        blocks.append(_buttons(view, ctx, extension.extension_id if extension else None))
    else:
        blocks.insert(0, status_section(outcome))
    text = ask if outcome is None else f"{outcome} {ask}"
    return SlackMessage(text=text, blocks=tuple(blocks))
