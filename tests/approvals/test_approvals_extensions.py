"""Grant tracking and extensions of active grants, without a broker."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from services.approvals.domain import extensions, grant_tracking, machine
from services.approvals.domain.record import (
    ExtensionStatus,
    GrantStatus,
    RequestRecord,
    RequestStatus,
)
from services.approvals.domain.step import Step
from shared.contracts.events import (
    ApprovalCounted,
    ApprovalMode,
    ApprovalRequested,
    Decision,
    ExtendGrant,
    ExtensionApproved,
    ExtensionDenied,
    GrantApplied,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
    RefusalReason,
    RuleFacts,
    RuleWording,
)
from shared.profiles import Approvers
from tests.approvals.factories import (
    NOW,
    REQUESTER,
    decision,
    device,
    extend,
    later,
    person,
    profiles,
    submitted,
)

HOUR = 3600


def _grant_fields(record: RequestRecord) -> dict[str, Any]:
    return {
        "request_id": record.request_id,
        "requester": record.requester,
        "profile_id": record.profile_id,
        "device_id": record.device_id,
        "attribute": "custom:prodAccess",
    }


def applied(record: RequestRecord, expires_in: float = 2 * HOUR) -> GrantApplied:
    return GrantApplied(
        **_grant_fields(record), value=True, expires_at=later(expires_in), applied_at=NOW
    )


def after(step: Step) -> RequestRecord:
    assert step.record is not None
    return step.record


def approved(**overrides: Any) -> RequestRecord:
    """An approved request (by alice, then bob if a quorum needs it, or at once)."""
    step = machine.open_request(submitted(**overrides), profiles(), device(), NOW)
    record = after(step)
    for email in ("alice@example.com", "bob@example.com"):
        if record.status is RequestStatus.PENDING:
            record = after(
                machine.decide(record, decision(record.request_id, email), profiles(), NOW)
            )
    assert record.status is RequestStatus.APPROVED
    return record


def active(**overrides: Any) -> RequestRecord:
    """An approved request whose grant grants reported applied (2h from NOW)."""
    record = approved(**overrides)
    return after(grant_tracking.track(record, applied(record)))


def asked(record: RequestRecord, cmd: ExtendGrant) -> RequestRecord:
    step = extensions.request(record, cmd, profiles(), later(60))
    [event] = step.events
    assert isinstance(event, ApprovalRequested)
    return after(step)


# --- grant tracking ----------------------------------------------------------------


def test_applied_grant_is_tracked_as_active_with_its_expiry() -> None:
    record = active()
    assert record.grant is not None
    assert record.grant.status is GrantStatus.ACTIVE
    assert record.grant.expires_at == later(2 * HOUR)
    assert record.grant.granted_seconds == 2 * HOUR
    assert extensions.grant_active(record, later(60))
    assert not extensions.grant_active(record, later(2 * HOUR))


def test_a_repeated_grant_event_changes_nothing() -> None:
    record = active()
    step = grant_tracking.track(record, applied(record))
    assert step.record is None
    assert step.note


@pytest.mark.parametrize(
    ("ended", "status"),
    [
        (
            lambda r: GrantExpired(**_grant_fields(r), expired_at=later(2 * HOUR)),
            GrantStatus.EXPIRED,
        ),
        (
            lambda r: GrantRevoked(
                **_grant_fields(r), revoked_by=person("secops@example.com"), revoked_at=NOW
            ),
            GrantStatus.REVOKED,
        ),
    ],
)
def test_an_ended_grant_stays_ended_even_if_applied_arrives_late(
    ended: Any, status: GrantStatus
) -> None:
    record = approved()
    ended_record = after(grant_tracking.track(record, ended(record)))
    assert ended_record.grant is not None
    assert ended_record.grant.status is status
    assert grant_tracking.track(ended_record, applied(record)).record is None


def test_a_failed_grant_is_tracked_with_its_reason() -> None:
    record = approved()
    failed = GrantFailed(
        **_grant_fields(record), error_code="tailscale_rejected", message="Tailscale said 400."
    )
    tracked = after(grant_tracking.track(record, failed))
    assert tracked.grant is not None
    assert tracked.grant.status is GrantStatus.FAILED
    assert tracked.grant.reason == "Tailscale said 400."


def test_grant_events_for_an_unknown_request_change_nothing() -> None:
    record = approved()
    assert grant_tracking.track(None, applied(record)).record is None


# --- asking for an extension -------------------------------------------------------


def test_an_extension_of_an_active_grant_asks_the_approvers() -> None:
    record = active()
    cmd = extend(record.request_id, HOUR)
    step = extensions.request(record, cmd, profiles(), later(60))
    [event] = step.events
    assert isinstance(event, ApprovalRequested)
    assert event.extension_id == cmd.extension_id
    assert event.additional_seconds == HOUR
    assert event.duration_seconds == 2 * HOUR
    assert [p.email for p in event.approvers] == ["alice@example.com", "bob@example.com"]
    assert event.expires_at == later(60) + timedelta(hours=1)
    ext = after(step).extensions[cmd.extension_id]
    assert ext.status is ExtensionStatus.PENDING
    assert after(step).next_timer() == event.expires_at


def test_a_redelivered_extension_is_recorded_once() -> None:
    record = active()
    cmd = extend(record.request_id)
    once = asked(record, cmd)
    step = extensions.request(once, cmd, profiles(), later(61))
    assert step.record is None
    assert step.refusal is None


def _refusal(record: RequestRecord | None, cmd: ExtendGrant, **kw: Any) -> RefusalReason:
    step = extensions.request(record, cmd, kw.get("config", profiles()), kw.get("now", later(60)))
    assert step.record is None
    assert step.refusal is not None
    assert step.refusal.action == "extend"
    assert step.refusal.extension_id == cmd.extension_id
    return step.refusal.code


def test_extension_refusals() -> None:
    record = active()
    rid = record.request_id
    assert _refusal(None, extend(rid)) is RefusalReason.UNKNOWN_REQUEST
    assert _refusal(record, extend(rid, email="alice@example.com")) is RefusalReason.NOT_REQUESTER
    assert _refusal(approved(), extend(rid)) is RefusalReason.NOT_ACTIVE
    assert _refusal(record, extend(rid), now=later(2 * HOUR)) is RefusalReason.NOT_ACTIVE
    assert _refusal(record, extend(rid, 8 * HOUR + 1)) is RefusalReason.OVER_LIMIT
    # 2h granted + 8h + 3h > max_total_duration 12h
    with_more = asked(record, extend(rid, 8 * HOUR))
    assert _refusal(with_more, extend(rid, HOUR)) is RefusalReason.OVER_LIMIT  # one pending
    ext_id = next(iter(with_more.extensions))
    more = after(
        extensions.decide(
            with_more, decision(rid, "bob@example.com", extension_id=ext_id), profiles(), later(90)
        )
    )
    assert _refusal(more, extend(rid, 3 * HOUR)) is RefusalReason.OVER_LIMIT
    gone = profiles().model_copy(update={"profiles": []})
    assert _refusal(record, extend(rid), config=gone) is RefusalReason.NOT_ELIGIBLE


def test_ended_grant_cannot_be_extended() -> None:
    record = active()
    revoked = after(
        grant_tracking.track(
            record,
            GrantRevoked(**_grant_fields(record), revoked_by=REQUESTER, revoked_at=later(10)),
        )
    )
    assert _refusal(revoked, extend(record.request_id)) is RefusalReason.NOT_ACTIVE


def test_an_extension_without_a_required_reason_is_denied_by_rule() -> None:
    record = active()
    cmd = extend(record.request_id, reason=" ")
    step = extensions.request(record, cmd, profiles(), later(60))
    [event] = step.events
    assert isinstance(event, ExtensionDenied)
    assert event.denied_by is None
    assert event.reason == "Production requires a reason."
    assert event.facts == RuleFacts(wording=RuleWording.REASON_REQUIRED, subject="Production")
    assert after(step).extensions[cmd.extension_id].status is ExtensionStatus.DENIED


@pytest.mark.parametrize(
    "overrides",
    [
        {"profile_id": "staging", "approver_email": "dave@example.com"},
        {"profile_id": "break-glass", "duration_seconds": 1800},
        {"requester": person("oncall@example.com"), "duration_seconds": 1800},
    ],
    ids=["self", "break-glass", "auto"],
)
def test_self_break_glass_and_auto_extensions_are_approved_at_once(
    overrides: dict[str, Any],
) -> None:
    owner = overrides.get("requester", REQUESTER).email
    step0 = machine.open_request(submitted(**overrides), profiles(), device(owner=owner), NOW)
    record = after(step0)
    record = after(grant_tracking.track(record, applied(record)))
    cmd = extend(record.request_id, 1800, email=owner)
    step = extensions.request(record, cmd, profiles(), later(60))
    [event] = step.events
    assert isinstance(event, ExtensionApproved)
    assert event.approvers == []
    assert event.additional_seconds == 1800
    assert after(step).extensions[cmd.extension_id].status is ExtensionStatus.APPROVED


# --- deciding an extension ---------------------------------------------------------


def test_an_eligible_approval_approves_the_extension() -> None:
    record = active()
    cmd = extend(record.request_id)
    pending = asked(record, cmd)
    step = extensions.decide(
        pending,
        decision(record.request_id, "bob@example.com", extension_id=cmd.extension_id),
        profiles(),
        later(90),
    )
    [event] = step.events
    assert isinstance(event, ExtensionApproved)
    assert event.approvers == [person("bob@example.com")]
    assert after(step).extensions[cmd.extension_id].status is ExtensionStatus.APPROVED
    assert after(step).status is RequestStatus.APPROVED


def test_an_approver_removed_from_profiles_yaml_cannot_decide_an_extension() -> None:
    record = active()
    cmd = extend(record.request_id)
    pending = asked(record, cmd)
    config = profiles()
    without_bob = config.model_copy(
        update={
            "profiles": [
                p.model_copy(update={"approvers": Approvers(emails=["alice@example.com"])})
                if p.id == "prod"
                else p
                for p in config.profiles
            ]
        }
    )
    click = decision(record.request_id, "bob@example.com", extension_id=cmd.extension_id)
    step = extensions.decide(pending, click, without_bob, later(90))
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.NOT_ELIGIBLE


def test_an_eligible_deny_denies_the_extension() -> None:
    record = active()
    cmd = extend(record.request_id)
    pending = asked(record, cmd)
    click = decision(
        record.request_id,
        "alice@example.com",
        Decision.DENY,
        extension_id=cmd.extension_id,
        reason="No",
    )
    [event] = machine.decide(pending, click, profiles(), later(90)).events
    assert isinstance(event, ExtensionDenied)
    assert event.denied_by == person("alice@example.com")
    assert event.reason == "No"


def test_extension_decision_refusals() -> None:
    record = active(profile_id="prod-db", duration_seconds=HOUR)
    cmd = extend(record.request_id)
    pending = asked(record, cmd)
    rid, eid = record.request_id, cmd.extension_id

    def code(target: RequestRecord, email: str, ext: str | None = eid) -> RefusalReason:
        step = machine.decide(target, decision(rid, email, extension_id=ext), profiles(), later(90))
        assert step.record is None
        assert step.refusal is not None
        assert step.refusal.extension_id == ext
        return step.refusal.code

    assert (
        code(pending, "alice@example.com", submitted().request_id) is RefusalReason.UNKNOWN_REQUEST
    )
    assert code(pending, "mallory@example.com") is RefusalReason.NOT_ELIGIBLE
    assert code(pending, "dave@example.com") is RefusalReason.SELF_APPROVAL_NOT_ALLOWED
    once = after(
        machine.decide(
            pending, decision(rid, "alice@example.com", extension_id=eid), profiles(), later(90)
        )
    )
    assert code(once, "alice@example.com") is RefusalReason.ALREADY_DECIDED
    done = after(
        machine.decide(
            once, decision(rid, "carol@example.com", extension_id=eid), profiles(), later(90)
        )
    )
    assert done.extensions[eid].status is ExtensionStatus.APPROVED
    assert code(done, "bob@example.com") is RefusalReason.NOT_PENDING
    ended = after(
        grant_tracking.track(pending, GrantExpired(**_grant_fields(pending), expired_at=later(80)))
    )
    assert code(ended, "alice@example.com") is RefusalReason.NOT_ACTIVE


def test_extended_grant_counts_the_extension_once() -> None:
    record = active()
    cmd = extend(record.request_id)
    pending = asked(record, cmd)
    yes = decision(record.request_id, "alice@example.com", extension_id=cmd.extension_id)
    ok = after(extensions.decide(pending, yes, profiles(), later(90)))
    moved = GrantExtended(
        **_grant_fields(record),
        extension_id=cmd.extension_id,
        expires_at=later(3 * HOUR),
        previous_expires_at=later(2 * HOUR),
    )
    extended = after(grant_tracking.track(ok, moved))
    assert extended.grant is not None
    assert extended.grant.granted_seconds == 3 * HOUR
    assert extended.grant.expires_at == later(3 * HOUR)
    assert extended.extensions[cmd.extension_id].status is ExtensionStatus.APPLIED
    assert grant_tracking.track(extended, moved).record is None


def test_a_failed_extension_no_longer_counts_toward_the_total() -> None:
    record = active()
    cmd = extend(record.request_id, 8 * HOUR)
    pending = asked(record, cmd)
    yes = decision(record.request_id, "alice@example.com", extension_id=cmd.extension_id)
    ok = after(extensions.decide(pending, yes, profiles(), later(90)))
    assert extensions.committed_seconds(ok) == 10 * HOUR
    failed = GrantFailed(
        **_grant_fields(record),
        error_code="retries_exhausted",
        message="Tailscale unreachable.",
        extension_id=cmd.extension_id,
    )
    tracked = after(grant_tracking.track(ok, failed))
    assert tracked.extensions[cmd.extension_id].status is ExtensionStatus.FAILED
    assert extensions.committed_seconds(tracked) == 2 * HOUR
    assert tracked.grant is not None
    assert tracked.grant.status is GrantStatus.ACTIVE


# --- extension expiry --------------------------------------------------------------


def test_an_unanswered_extension_expires_on_its_timer() -> None:
    record = active()
    cmd = extend(record.request_id)
    pending = asked(record, cmd)
    due = pending.next_timer()
    assert due is not None
    step = machine.expire(pending, due, due)
    [event] = step.events
    assert isinstance(event, ExtensionDenied)
    assert event.denied_by is None
    assert event.reason == "Nobody decided within 1h."
    assert event.facts == RuleFacts(wording=RuleWording.NOBODY_DECIDED, seconds=3600)
    assert after(step).extensions[cmd.extension_id].status is ExtensionStatus.EXPIRED
    assert after(step).status is RequestStatus.APPROVED


def test_a_stale_request_timer_leaves_a_pending_extension_alone() -> None:
    record = active()
    pending = asked(record, extend(record.request_id))
    assert record.expires_at is not None
    step = machine.expire(pending, record.expires_at, later(120))
    assert step.record is None
    assert step.events == ()


def test_a_click_after_the_extension_ttl_expires_it_and_is_refused() -> None:
    record = active()
    cmd = extend(record.request_id)
    pending = asked(record, cmd)
    click = decision(record.request_id, "alice@example.com", extension_id=cmd.extension_id)
    step = machine.decide(pending, click, profiles(), later(60 + HOUR))
    [event] = step.events
    assert isinstance(event, ExtensionDenied)
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.NOT_PENDING


def test_a_self_approved_grant_is_not_self_extended_once_a_quorum_is_required() -> None:
    # Approved by dave himself under staging's rules of the day (one approval) ...
    sub = submitted(profile_id="staging", approver_email="dave@example.com")
    record = after(machine.open_request(sub, profiles(), device(), NOW))
    assert record.mode is ApprovalMode.SELF
    record = after(grant_tracking.track(record, applied(record)))
    # ... then profiles.yaml asks for two approvals (extensions use the profile as loaded now).
    staging = profiles().get("staging")
    assert staging is not None
    stricter = profiles().model_copy(
        update={"profiles": [staging.model_copy(update={"approvals_required": 2})]}
    )
    step = extensions.request(record, extend(record.request_id, 1800), stricter, later(60))
    [event] = step.events
    assert isinstance(event, ApprovalRequested)
    assert event.approvals_required == 2
    # The first of the two approvals counts without deciding, and says so.
    ext_id = event.extension_id
    assert ext_id is not None
    click = decision(record.request_id, "alice@example.com", extension_id=ext_id)
    first = machine.decide(after(step), click, stricter, later(120))
    [counted] = first.events
    assert isinstance(counted, ApprovalCounted)
    assert counted.extension_id == ext_id
    assert [p.email for p in counted.approvals] == ["alice@example.com"]
    assert after(first).extensions[ext_id].status is ExtensionStatus.PENDING
