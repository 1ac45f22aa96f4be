"""The request state machine: pending -> approved | denied | expired | cancelled (or rejected).

Plain functions of (record, input, now) returning a `Step`; no I/O, so every
transition and refusal is unit-tested without a broker.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from services.approvals.domain import extensions, nudges
from services.approvals.domain.ballot import Ballot, outcome
from services.approvals.domain.budget import BudgetClaim, budget_key
from services.approvals.domain.record import RequestRecord, RequestStatus, Rules, Vote
from services.approvals.domain.rules import (
    approvers_to_ask,
    auto_covers,
    budget_day,
    group_members,
    instant_mode,
    outside_hours,
)
from services.approvals.domain.rules import over_budget as over_budget_facts
from services.approvals.domain.step import Action, Step, refuse, unchanged
from services.approvals.domain.validation import (
    pair_held_problem,
    submission_problems,
    submitted_groups,
)
from shared.contracts.events import (
    ApprovalCounted,
    ApprovalMode,
    ApprovalRequested,
    AutoApprovalFacts,
    CancelRequest,
    DecideRequest,
    Decision,
    DeviceSnapshot,
    Person,
    RefusalFacts,
    RefusalReason,
    RefusalWording,
    RequestApproved,
    RequestCancelled,
    RequestDenied,
    RequestExpired,
    RequestRejected,
    SubmitRequest,
)
from shared.device_claims import DeviceClaim
from shared.profiles import Profile, ProfilesConfig


def budget_claim(
    sub: SubmitRequest,
    config: ProfilesConfig,
    device: DeviceSnapshot | None,
    now: datetime,
    *,
    held_by: DeviceClaim | None = None,
) -> BudgetClaim | None:
    """The daily budget slot this submission needs before `open_request` may auto-approve
    it: only a valid submission that `auto_approve` covers, inside its hours, where the
    profile sets `max_per_day` (and no break-glass or self-approval approves it anyway)."""
    profile = config.get(sub.profile_id)
    auto = profile.auto_approve if profile is not None else None
    if profile is None or auto is None or auto.max_per_day is None or held_by is not None:
        return None
    limit = auto.max_per_day
    duration = timedelta(seconds=sub.duration_seconds)
    mode = instant_mode(profile, sub.requester.email, sub.approver_email, duration)
    if (
        mode is not ApprovalMode.AUTO
        or outside_hours(auto, now) is not None
        or submission_problems(sub, config, device)
    ):
        return None
    key = budget_key(profile.id, sub.requester.email, budget_day(auto, now))
    return BudgetClaim(request_id=sub.request_id, key=key, limit=limit)


def _auto_held(
    sub: SubmitRequest, profile: Profile | None, now: datetime, *, over: bool
) -> AutoApprovalFacts | None:
    """Why `auto_approve`, which covers this request, does not approve it now (or None)."""
    duration = timedelta(seconds=sub.duration_seconds)
    if profile is None or profile.auto_approve is None:
        return None
    if not auto_covers(profile, sub.requester.email, duration):
        return None
    held = outside_hours(profile.auto_approve, now)
    if held is None and over:
        held = over_budget_facts(profile.auto_approve, now)
    return held


def open_request(
    sub: SubmitRequest,
    config: ProfilesConfig,
    device: DeviceSnapshot | None,
    now: datetime,
    *,
    over_budget: bool = False,
    held_by: DeviceClaim | None = None,
) -> Step:
    """A new record for a submission: rejected, approved at once, or pending approvers.

    `over_budget`: the day's auto-approval budget had no room (see `budget_claim`).
    `held_by`: another live request holds this (profile, device) (see `pairs`)."""
    base = RequestRecord(
        request_id=sub.request_id,
        status=RequestStatus.PENDING,
        profile_id=sub.profile_id,
        requester=sub.requester,
        device_id=sub.device_id,
        duration_seconds=sub.duration_seconds,
        reason=sub.reason,
        chosen_approver=sub.approver_email,
        submitted_at=sub.submitted_at,
        created_at=now,
    )
    profile = config.get(sub.profile_id)
    held = _auto_held(sub, profile, now, over=over_budget)
    problems = submission_problems(sub, config, device, auto=held is None)
    if held_by is not None and not problems:
        problems = [pair_held_problem(held_by, profile)]
    if problems or profile is None or device is None:
        rejected = base.model_copy(
            update={"status": RequestStatus.REJECTED, "problems": problems, "decided_at": now}
        )
        rejection = RequestRejected(
            request_id=sub.request_id,
            requester=sub.requester,
            profile_id=sub.profile_id,
            problems=problems,
        )
        return Step(record=rejected, events=(rejection,))
    groups = submitted_groups(sub, profile)
    fallback_groups = profile.escalate_to.slack_groups if profile.escalate_to else []
    rules = Rules(
        description=profile.description,
        attribute=profile.attribute,
        value=profile.value,
        approvals_required=profile.approvals_required,
        self_approval=profile.self_approval,
        eligible=profile.eligible_approvers(sub.requester.email, groups),
        groups=groups,
        remind_after_seconds=_seconds(profile.remind_after),
        max_reminders=profile.reminders_allowed,
        escalate_after_seconds=_seconds(profile.escalate_after),
        fallback=profile.fallback_approvers(sub.requester.email, groups),
        fallback_groups=[g for g in fallback_groups if groups.get(g)],
        named=sub.approver_people,
    )
    opened = base.model_copy(update={"device": device, "rules": rules})
    duration = timedelta(seconds=sub.duration_seconds)
    mode = instant_mode(
        profile, sub.requester.email, sub.approver_email, duration, auto=held is None
    )
    if mode is not None:
        approvers = [] if mode is ApprovalMode.AUTO else [sub.requester]
        return _approve(opened, rules, approvers, mode, now=now)
    asked = approvers_to_ask(
        rules.eligible, rules.approvals_required, opened.chosen_approver, sub.requester, rules.named
    )
    expires_at = now + config.request_ttl(profile)
    asked_groups = [g for g in profile.approvers.slack_groups if groups.get(g)]
    pending = opened.model_copy(update={"asked": asked, "expires_at": expires_at})
    event = ApprovalRequested(
        request_id=sub.request_id,
        requester=sub.requester,
        profile_id=sub.profile_id,
        profile_description=rules.description,
        device=device,
        duration_seconds=sub.duration_seconds,
        reason=sub.reason,
        approvers=asked,
        approvals_required=rules.approvals_required,
        expires_at=expires_at,
        auto_approval=held,
        # The approvers' groups only: escalate_to's ask nobody until the escalation.
        approver_groups=asked_groups,
        group_members=group_members(asked_groups, groups),
    )
    return Step(record=pending, events=(event,))


def _seconds(value: timedelta | None) -> int | None:
    return None if value is None else int(value.total_seconds())


def _approve(
    record: RequestRecord,
    rules: Rules,
    approvers: list[Person],
    mode: ApprovalMode,
    *,
    now: datetime,
    votes: list[Vote] | None = None,
) -> Step:
    assert record.device is not None  # only opened (never rejected) records are approved
    approved = record.model_copy(
        update={
            "status": RequestStatus.APPROVED,
            "mode": mode,
            "decided_at": now,
            "votes": record.votes if votes is None else votes,
        }
    )
    event = RequestApproved(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        device=record.device,
        attribute=rules.attribute,
        value=rules.value,
        duration_seconds=record.duration_seconds,
        reason=record.reason,
        approvers=approvers,
        mode=mode,
        approved_at=now,
    )
    return Step(record=approved, events=(event,))


def decide(
    record: RequestRecord | None, cmd: DecideRequest, config: ProfilesConfig, now: datetime
) -> Step:
    """An Approve or Deny click: counted, deciding, or refused with a reason.

    `config` is profiles.yaml as loaded now: it can take a right away, never add one.
    """
    action: Action = "approve" if cmd.decision is Decision.APPROVE else "deny"
    if record is None:
        return refuse(
            cmd.request_id,
            cmd.decider,
            action,
            RefusalReason.UNKNOWN_REQUEST,
            RefusalFacts(wording=RefusalWording.UNKNOWN_REQUEST),
            extension_id=cmd.extension_id,
        )
    if cmd.extension_id is not None:
        return extensions.decide(record, cmd, config, now)
    if _overdue(record, now):
        return _expire_and_refuse(record, cmd.decider, action, now)
    if record.terminal or record.rules is None:
        return _refuse_not_pending(record, cmd.decider, action, record.status.value)
    refusal = _ballot(record, record.rules, config).refusal(cmd.decider)
    if refusal is not None:
        return refuse(cmd.request_id, cmd.decider, action, *refusal)
    return _count(record, record.rules, cmd, now)


def _ballot(record: RequestRecord, rules: Rules, config: ProfilesConfig) -> Ballot:
    return Ballot(
        subject=rules.description,
        requester=record.requester.email,
        eligible=rules.eligible,
        approvals_required=rules.approvals_required,
        self_approval=rules.self_approval,
        votes=record.votes,
        current=config.get(record.profile_id),
        groups=rules.groups,
        fallback=rules.fallback,
        escalated=record.escalated_at is not None,
    )


def _count(record: RequestRecord, rules: Rules, cmd: DecideRequest, now: datetime) -> Step:
    """Record a counted vote; deny or approve when it decides."""
    vote = Vote(approver=cmd.decider, decision=cmd.decision, reason=cmd.reason, at=now)
    votes = [*record.votes, vote]
    decided = outcome(votes, rules.approvals_required)
    if decided is Decision.DENY:
        denied = record.model_copy(
            update={"status": RequestStatus.DENIED, "votes": votes, "decided_at": now}
        )
        event = RequestDenied(
            request_id=record.request_id,
            requester=record.requester,
            profile_id=record.profile_id,
            denied_by=cmd.decider,
            reason=cmd.reason,
        )
        return Step(record=denied, events=(event,))
    if decided is Decision.APPROVE:
        approvers = [v.approver for v in votes if v.decision is Decision.APPROVE]
        return _approve(record, rules, approvers, ApprovalMode.QUORUM, now=now, votes=votes)
    counted = ApprovalCounted(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        approver=cmd.decider,
        approvals=[v.approver for v in votes if v.decision is Decision.APPROVE],
        approvals_required=rules.approvals_required,
    )
    return Step(record=record.model_copy(update={"votes": votes}), events=(counted,))


def _expire_and_refuse(record: RequestRecord, actor: Person, action: Action, now: datetime) -> Step:
    """A click after the request's time ran out (before its timer fired): expire it now."""
    expired = expire(record, now, now)
    refused = _refuse_not_pending(record, actor, action, "expired")
    return Step(record=expired.record, events=expired.events, refusal=refused.refusal)


def _overdue(record: RequestRecord, moment: datetime) -> bool:
    return (
        record.status is RequestStatus.PENDING
        and record.expires_at is not None
        and record.expires_at <= moment
    )


def _refuse_not_pending(record: RequestRecord, actor: Person, action: Action, state: str) -> Step:
    return refuse(
        record.request_id,
        actor,
        action,
        RefusalReason.NOT_PENDING,
        RefusalFacts(wording=RefusalWording.NOT_PENDING, state=state),
    )


def cancel(record: RequestRecord | None, cmd: CancelRequest, now: datetime) -> Step:
    """The requester withdraws a pending request; anyone else, or too late, is refused."""
    if record is None:
        return refuse(
            cmd.request_id,
            cmd.actor,
            "cancel",
            RefusalReason.UNKNOWN_REQUEST,
            RefusalFacts(wording=RefusalWording.UNKNOWN_REQUEST),
        )
    if cmd.actor.email != record.requester.email:
        return refuse(
            cmd.request_id,
            cmd.actor,
            "cancel",
            RefusalReason.NOT_REQUESTER,
            RefusalFacts(wording=RefusalWording.ONLY_REQUESTER),
        )
    if _overdue(record, now):
        return _expire_and_refuse(record, cmd.actor, "cancel", now)
    if record.terminal:
        return _refuse_not_pending(record, cmd.actor, "cancel", record.status.value)
    cancelled = record.model_copy(update={"status": RequestStatus.CANCELLED, "decided_at": now})
    event = RequestCancelled(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        cancelled_by=cmd.actor,
    )
    return Step(record=cancelled, events=(event,))


def on_timer(record: RequestRecord | None, due_at: datetime, now: datetime) -> Step:
    """The request timer fired: expire what is due; else remind or escalate what is due;
    else expire a due extension; otherwise nothing (late, repeated and stale firings
    included: the record says what already happened)."""
    if record is not None and not _overdue(record, max(due_at, now)):
        step = nudges.nudge(record, max(due_at, now), now)
        if step is not None:
            return step
    return expire(record, due_at, now)


def expire(record: RequestRecord | None, due_at: datetime, now: datetime) -> Step:
    """A request-expiry timer fired: expire what is pending and due; otherwise nothing.

    Harmless when late, repeated or stale (a decision came first, or the schedule
    was replaced by a later one for an extension).
    """
    if record is None:
        return unchanged("timer for an unknown request")
    moment = max(due_at, now)
    if _overdue(record, moment):
        expired = record.model_copy(update={"status": RequestStatus.EXPIRED, "decided_at": now})
        event = RequestExpired(
            request_id=record.request_id,
            requester=record.requester,
            profile_id=record.profile_id,
            expired_at=now,
        )
        return Step(record=expired, events=(event,))
    return extensions.expire(record, moment, now)
