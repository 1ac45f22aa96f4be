"""Reminders and escalation as people see them (issue 15, item 2).

- A reminder updates every approver's copy (a line saying which reminder) and adds a
  thread reply under the copy of each approver who has not decided.
- An escalation asks the fallback approvers with a copy like the first ask (built by
  `approver_message`, which shows the escalation line), updates the requester's DM
  (who can decide now) with a thread reply under it, and the audit thread records both.
"""

from __future__ import annotations

from services.notifier.domain.context import NotifyContext
from services.notifier.domain.formatting import (
    duration,
    people,
    people_by_source,
    person,
    slack_date,
)
from services.notifier.domain.message_parts import line, profile_label, status_section
from services.notifier.domain.request_view import Phase, RequestView
from services.notifier.domain.slack_message import SlackMessage
from shared.contracts.events import ApprovalEscalated, ApprovalReminded


def escalation_text(view: RequestView) -> str | None:
    """The escalation, in the third person; None before (or without) one."""
    if view.escalated_after_seconds is None:
        return None
    waited = duration(view.escalated_after_seconds)
    if not view.escalated_to:
        return f":arrow_double_up: *Escalated* after {waited}, but nobody else may decide."
    who = people_by_source(view.escalated_to, view.escalation_groups, view.escalation_group_members)
    return f":arrow_double_up: *Escalated* after {waited} without a decision: {who} can decide too."


def reminder_text(view: RequestView) -> str | None:
    """Which reminder went out last; None before the first."""
    if view.reminders == 0:
        return None
    of = f" of {view.max_reminders}" if view.max_reminders else ""
    return f":bell: *Reminder {view.reminders}{of}*: still waiting for a decision."


def nudge_lines(view: RequestView, *, reminded: bool = True) -> str | None:
    """What a pending request's messages add about reminders and escalation, if anything.

    `reminded`: False for the copy of a fallback approver asked after the reminders (the
    reminder line belongs to those who were reminded)."""
    if view.phase not in (Phase.SUBMITTED, Phase.PENDING):
        return None
    reminder = reminder_text(view) if reminded else None
    lines = [t for t in (escalation_text(view), reminder) if t is not None]
    return line("\n".join(lines)) if lines else None


def reminder_reply(event: ApprovalReminded, view: RequestView, ctx: NotifyContext) -> SlackMessage:
    """The thread reply under an undecided approver's copy."""
    who = person(view.requester) if view.requester else "Someone"
    text = line(
        f":bell: *Reminder {event.reminder} of {event.max_reminders}*: {who} has been waiting "
        f"{duration(event.waiting_seconds)} for a decision on *{profile_label(view, ctx)}* "
        f"access. The request expires {slack_date(event.expires_at)} if nobody decides."
    )
    return SlackMessage(text=text, blocks=(status_section(text),))


def escalation_reply(
    event: ApprovalEscalated, view: RequestView, ctx: NotifyContext
) -> SlackMessage:
    """The thread reply under the requester's DM."""
    waited = duration(event.waiting_seconds)
    if event.approvers:
        who = people_by_source(event.approvers, event.approver_groups, event.group_members)
        news = (
            f":arrow_double_up: Nobody decided within {waited}, so your request was "
            f"escalated: {who} can approve it too."
        )
    else:
        news = (
            f":arrow_double_up: Nobody decided within {waited}; the profile's fallback "
            "approvers cannot decide on your request, so it still waits for the approvers."
        )
    text = line(
        news,
        f" Your *{profile_label(view, ctx)}* request expires "
        f"{slack_date(event.expires_at)} if nobody decides.",
    )
    return SlackMessage(text=text, blocks=(status_section(text),))


def reminder_step(event: ApprovalReminded) -> str:
    """The audit thread's line for a reminder."""
    return (
        f":bell: Reminder {event.reminder} of {event.max_reminders} sent to "
        f"{people(event.approvers)} after {duration(event.waiting_seconds)}."
    )


def escalation_step(event: ApprovalEscalated) -> str:
    """The audit thread's line for an escalation."""
    waited = duration(event.waiting_seconds)
    if not event.approvers:
        return f":arrow_double_up: Escalated after {waited}; nobody else may decide."
    who = people_by_source(event.approvers, event.approver_groups, event.group_members)
    return f":arrow_double_up: Escalated after {waited}: asked {who}."
