"""Extensions of an active grant: the same rules as requests, per extension id."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

from services.approvals.domain.ballot import Ballot, outcome
from services.approvals.domain.record import (
    ExtensionRecord,
    ExtensionStatus,
    GrantStatus,
    RequestRecord,
    Vote,
)
from services.approvals.domain.rules import (
    approvers_to_ask,
    auto_covers,
    instant_mode,
    outside_hours,
)
from services.approvals.domain.step import Action, Step, refuse, unchanged
from shared.contracts.events import (
    ApprovalCounted,
    ApprovalMode,
    ApprovalRequested,
    DecideRequest,
    Decision,
    Event,
    ExtendGrant,
    ExtensionApproved,
    ExtensionDenied,
    Person,
    RefusalFacts,
    RefusalReason,
    RuleFacts,
    RuleWording,
)
from shared.contracts.events import RefusalWording as W
from shared.profiles import Profile, ProfilesConfig
from shared.wording import rule_text

_COMMITTED = (ExtensionStatus.PENDING, ExtensionStatus.APPROVED, ExtensionStatus.APPLIED)


def grant_active(record: RequestRecord, now: datetime) -> bool:
    """True while grants reports the attribute set and its expiry is ahead."""
    grant = record.grant
    return (
        grant is not None
        and grant.status is GrantStatus.ACTIVE
        and (grant.expires_at is None or grant.expires_at > now)
    )


def committed_seconds(record: RequestRecord) -> int:
    """The request's time plus every extension approved or still asked for."""
    return record.duration_seconds + sum(
        e.additional_seconds for e in record.extensions.values() if e.status in _COMMITTED
    )


def with_extension(record: RequestRecord, ext: ExtensionRecord) -> RequestRecord:
    """The record with one extension added or replaced."""
    return record.model_copy(update={"extensions": {**record.extensions, ext.extension_id: ext}})


def request(
    record: RequestRecord | None, cmd: ExtendGrant, config: ProfilesConfig, now: datetime
) -> Step:
    """The requester asks for more time on an active grant."""
    if record is None:
        return _refuse_extend(cmd, RefusalReason.UNKNOWN_REQUEST, _facts(W.UNKNOWN_REQUEST))
    if cmd.extension_id in record.extensions:
        return unchanged("extension already recorded")
    profile = config.get(record.profile_id)
    if profile is None:
        return _refuse_extend(
            cmd, RefusalReason.NOT_ELIGIBLE, _facts(W.PROFILE_GONE, subject=record.profile_id)
        )
    refusal = next(_extend_refusals(record, cmd, profile, config, now), None)
    if refusal is not None:
        return _refuse_extend(cmd, *refusal)
    return _open(record, cmd, profile, config, now)


def _facts(wording: W, **data: str | int) -> RefusalFacts:
    return RefusalFacts.model_validate({"wording": wording, **data})


def _refuse_extend(cmd: ExtendGrant, code: RefusalReason, facts: RefusalFacts) -> Step:
    return refuse(cmd.request_id, cmd.actor, "extend", code, facts, extension_id=cmd.extension_id)


def _extend_refusals(
    record: RequestRecord,
    cmd: ExtendGrant,
    profile: Profile,
    config: ProfilesConfig,
    now: datetime,
) -> Iterator[tuple[RefusalReason, RefusalFacts]]:
    """Why the extension cannot be asked for, first reason first (lazily)."""
    if cmd.actor.email != record.requester.email:
        yield RefusalReason.NOT_REQUESTER, _facts(W.ONLY_REQUESTER)
    if not grant_active(record, now):
        yield RefusalReason.NOT_ACTIVE, _facts(W.NOTHING_ACTIVE)
    if record.pending_extension() is not None:
        yield RefusalReason.OVER_LIMIT, _facts(W.EXTENSION_WAITING)
    additional = timedelta(seconds=cmd.additional_seconds)
    maximum = config.max_duration(profile)
    if additional > maximum:
        yield (
            RefusalReason.OVER_LIMIT,
            _facts(
                W.OVER_ONE_EXTENSION,
                subject=profile.description,
                seconds=cmd.additional_seconds,
                limit_seconds=int(maximum.total_seconds()),
            ),
        )
    total = timedelta(seconds=committed_seconds(record)) + additional
    max_total = config.max_total_duration(profile)
    if total > max_total:
        yield (
            RefusalReason.OVER_LIMIT,
            _facts(
                W.OVER_TOTAL,
                subject=profile.description,
                seconds=int(total.total_seconds()),
                limit_seconds=int(max_total.total_seconds()),
            ),
        )


def _open(
    record: RequestRecord,
    cmd: ExtendGrant,
    profile: Profile,
    config: ProfilesConfig,
    now: datetime,
) -> Step:
    """Deny it by rule, approve it at once, or ask the approvers."""
    # Groups as resolved when the request was opened, for the groups the profile lists now.
    groups = record.rules.groups if record.rules else {}
    eligible = profile.eligible_approvers(record.requester.email, groups)
    ext = ExtensionRecord(
        extension_id=cmd.extension_id,
        requested_by=cmd.actor,
        additional_seconds=cmd.additional_seconds,
        reason=cmd.reason,
        requested_at=now,
        status=ExtensionStatus.PENDING,
        approvals_required=profile.approvals_required,
        self_approval=profile.self_approval,
        eligible=eligible,
    )
    if profile.require_reason and not cmd.reason.strip():
        reason_required = RuleFacts(
            wording=RuleWording.REASON_REQUIRED, subject=profile.description
        )
        return _deny_by_rule(record, ext, reason_required, now)
    additional = timedelta(seconds=cmd.additional_seconds)
    # The window of `auto_approve` holds extensions too; its daily budget counts requests.
    held = (
        outside_hours(profile.auto_approve, now)
        if profile.auto_approve is not None
        and auto_covers(profile, record.requester.email, additional)
        else None
    )
    mode = instant_mode(
        profile, record.requester.email, record.chosen_approver, additional, auto=held is None
    )
    if mode is not None:
        return _approve(record, ext, [], mode, now)
    if len(eligible) < profile.approvals_required:
        too_few = RuleFacts(wording=RuleWording.TOO_FEW_FOR_EXTENSION)
        return _deny_by_rule(record, ext, too_few, now)
    chosen = record.chosen_approver if record.chosen_approver in eligible else None
    named = record.rules.named if record.rules else []
    asked = approvers_to_ask(eligible, profile.approvals_required, chosen, record.requester, named)
    expires_at = now + config.request_ttl(profile)
    pending = ext.model_copy(update={"asked": asked, "expires_at": expires_at})
    assert record.device is not None  # an active grant implies an opened request
    event = ApprovalRequested(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        profile_description=profile.description,
        device=record.device,
        duration_seconds=record.duration_seconds,
        reason=cmd.reason,
        approvers=asked,
        approvals_required=profile.approvals_required,
        expires_at=expires_at,
        extension_id=cmd.extension_id,
        additional_seconds=cmd.additional_seconds,
        auto_approval=held,
    )
    return Step(record=with_extension(record, pending), events=(event,))


def decide(
    record: RequestRecord, cmd: DecideRequest, config: ProfilesConfig, now: datetime
) -> Step:
    """An Approve or Deny click on an extension (`config`: profiles.yaml as loaded now)."""
    action: Action = "approve" if cmd.decision is Decision.APPROVE else "deny"
    ext = record.extensions.get(cmd.extension_id or "")

    def no(code: RefusalReason, facts: RefusalFacts) -> Step:
        return refuse(
            cmd.request_id, cmd.decider, action, code, facts, extension_id=cmd.extension_id
        )

    if ext is None:
        return no(RefusalReason.UNKNOWN_REQUEST, _facts(W.UNKNOWN_EXTENSION))
    if _overdue(ext, now):
        expired = _expire(record, ext, now)
        refused = no(RefusalReason.NOT_PENDING, _facts(W.NOT_PENDING, state="expired"))
        return Step(record=expired.record, events=expired.events, refusal=refused.refusal)
    refusal = next(_decision_refusals(record, ext, cmd, config, now), None)
    if refusal is not None:
        return no(*refusal)
    return _count(record, ext, cmd, now)


def _decision_refusals(
    record: RequestRecord,
    ext: ExtensionRecord,
    cmd: DecideRequest,
    config: ProfilesConfig,
    now: datetime,
) -> Iterator[tuple[RefusalReason, RefusalFacts]]:
    """Why a click on an extension does not count, first reason first (lazily)."""
    if ext.status is not ExtensionStatus.PENDING:
        yield RefusalReason.NOT_PENDING, _facts(W.NOT_PENDING, state=ext.status.value)
    if not grant_active(record, now):
        yield RefusalReason.NOT_ACTIVE, _facts(W.ACCESS_ENDED)
    ballot = Ballot(
        subject=record.rules.description if record.rules else record.profile_id,
        requester=record.requester.email,
        eligible=ext.eligible,
        approvals_required=ext.approvals_required,
        self_approval=ext.self_approval,
        votes=ext.votes,
        current=config.get(record.profile_id),
        groups=record.rules.groups if record.rules else {},
    )
    refusal = ballot.refusal(cmd.decider)
    if refusal is not None:
        yield refusal


def _count(record: RequestRecord, ext: ExtensionRecord, cmd: DecideRequest, now: datetime) -> Step:
    """Record a counted vote; deny or approve when it decides."""
    vote = Vote(approver=cmd.decider, decision=cmd.decision, reason=cmd.reason, at=now)
    voted = ext.model_copy(update={"votes": [*ext.votes, vote]})
    decided = outcome(voted.votes, ext.approvals_required)
    if decided is Decision.DENY:
        return _deny(record, voted, cmd.decider, cmd.reason, now)
    if decided is Decision.APPROVE:
        approvers = [v.approver for v in voted.votes if v.decision is Decision.APPROVE]
        return _approve(record, voted, approvers, ApprovalMode.QUORUM, now)
    counted = ApprovalCounted(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        approver=cmd.decider,
        approvals=[v.approver for v in voted.votes if v.decision is Decision.APPROVE],
        approvals_required=ext.approvals_required,
        extension_id=ext.extension_id,
    )
    return Step(record=with_extension(record, voted), events=(counted,))


def expire(record: RequestRecord, moment: datetime, now: datetime) -> Step:
    """Expire the pending extension if it is due at `moment`; otherwise nothing."""
    ext = record.pending_extension()
    if ext is None or not _overdue(ext, moment):
        return unchanged("nothing due")
    return _expire(record, ext, now)


def _overdue(ext: ExtensionRecord, moment: datetime) -> bool:
    return (
        ext.status is ExtensionStatus.PENDING
        and ext.expires_at is not None
        and ext.expires_at <= moment
    )


def _expire(record: RequestRecord, ext: ExtensionRecord, now: datetime) -> Step:
    waited = max(1, int(((ext.expires_at or now) - ext.requested_at).total_seconds()))
    expired = ext.model_copy(update={"status": ExtensionStatus.EXPIRED, "decided_at": now})
    nobody = RuleFacts(wording=RuleWording.NOBODY_DECIDED, seconds=waited)
    event = _denied_event(record, ext, None, rule_text(nobody), facts=nobody)
    return Step(record=with_extension(record, expired), events=(event,))


def _approve(
    record: RequestRecord,
    ext: ExtensionRecord,
    approvers: list[Person],
    mode: ApprovalMode,
    now: datetime,
) -> Step:
    approved = ext.model_copy(
        update={"status": ExtensionStatus.APPROVED, "mode": mode, "decided_at": now}
    )
    event = ExtensionApproved(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        extension_id=ext.extension_id,
        additional_seconds=ext.additional_seconds,
        approvers=approvers,
    )
    return Step(record=with_extension(record, approved), events=(event,))


def _deny(
    record: RequestRecord,
    ext: ExtensionRecord,
    denied_by: Person | None,
    reason: str | None,
    now: datetime,
    *,
    facts: RuleFacts | None = None,
) -> Step:
    denied = ext.model_copy(update={"status": ExtensionStatus.DENIED, "decided_at": now})
    event = _denied_event(record, ext, denied_by, reason, facts=facts)
    return Step(record=with_extension(record, denied), events=(event,))


def _deny_by_rule(
    record: RequestRecord, ext: ExtensionRecord, facts: RuleFacts, now: datetime
) -> Step:
    """A rule, not a person, denies: facts for the notifier, English for SIEM readers."""
    return _deny(record, ext, None, rule_text(facts), now, facts=facts)


def _denied_event(
    record: RequestRecord,
    ext: ExtensionRecord,
    denied_by: Person | None,
    reason: str | None,
    *,
    facts: RuleFacts | None = None,
) -> Event:
    return ExtensionDenied(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        extension_id=ext.extension_id,
        denied_by=denied_by,
        reason=reason,
        facts=facts,
    )
