"""Reminders and escalation of a pending request (profiles' `remind_after`, `escalate_to`).

Both are decided from the record alone when the request timer fires, so a timer that
is redelivered, duplicated or stale (replaced by a later one) finds nothing due and
changes nothing: the record's `reminders` count and `escalated_at` are written in the
same compare-and-set as the events they cause.
"""

from __future__ import annotations

from datetime import datetime

from services.approvals.domain.record import RequestRecord, RequestStatus
from services.approvals.domain.rules import group_members, named_person
from services.approvals.domain.step import Step
from shared.contracts.events import ApprovalEscalated, ApprovalReminded, Event, Person


def reminders_due(record: RequestRecord, moment: datetime) -> int:
    """How many reminders should have been sent by `moment` (never more than allowed)."""
    rules = record.rules
    if rules is None or rules.remind_after_seconds is None:
        return 0
    waited = (moment - record.created_at).total_seconds()
    return max(0, min(rules.max_reminders, int(waited // rules.remind_after_seconds)))


def escalation_due(record: RequestRecord, moment: datetime) -> bool:
    """Whether the request should have escalated by `moment` and has not yet."""
    at = record.escalation_at()
    return at is not None and at <= moment


def undecided(record: RequestRecord) -> list[Person]:
    """Who was asked and has not decided yet."""
    voted = {v.approver.email for v in record.votes}
    return [p for p in record.asked if p.email not in voted]


def nudge(record: RequestRecord, moment: datetime, now: datetime) -> Step | None:
    """The reminder and/or escalation due at `moment` on a pending request, or None.

    After an outage several reminders may be due at once: one is sent, numbered as the
    latest due, so people are never reminded twice in a row and never past the limit."""
    if record.status is not RequestStatus.PENDING or record.rules is None:
        return None
    due = reminders_due(record, moment)
    remind = due > record.reminders
    escalate = escalation_due(record, moment)
    if not remind and not escalate:
        return None
    rules = record.rules
    waited = max(1, int((now - record.created_at).total_seconds()))
    expires_at = record.expires_at or now
    events: list[Event] = []
    update: dict[str, object] = {}
    if remind:
        update["reminders"] = due
        reminded = undecided(record)
        if reminded:
            events.append(
                ApprovalReminded(
                    request_id=record.request_id,
                    requester=record.requester,
                    profile_id=record.profile_id,
                    approvers=reminded,
                    reminder=due,
                    max_reminders=rules.max_reminders,
                    waiting_seconds=waited,
                    expires_at=expires_at,
                )
            )
    if escalate:
        asked = {p.email for p in record.asked}
        added = [named_person(e, rules.named) for e in rules.fallback if e not in asked]
        update["escalated_at"] = now
        update["asked"] = [*record.asked, *added]
        if record.device is None:
            raise ValueError("an opened request has its device")
        events.append(
            ApprovalEscalated(
                request_id=record.request_id,
                requester=record.requester,
                profile_id=record.profile_id,
                profile_description=rules.description,
                device=record.device,
                duration_seconds=record.duration_seconds,
                reason=record.reason,
                approvers=added,
                approver_groups=rules.fallback_groups,
                group_members=group_members(rules.fallback_groups, rules.groups),
                approvals_required=rules.approvals_required,
                waiting_seconds=waited,
                expires_at=expires_at,
            )
        )
    note = "" if events else "reminder due but nobody left to remind"
    return Step(record=record.model_copy(update=update), events=tuple(events), note=note)
