"""The grant state machine (pure): what to do with a message, and each state change.

    applying --ok--> active --extend--> extending --> active (new expiry, or failed extension)
       \\--fail--> failed  |--revoke--> revoking --> revoked
                          \\--timer--> expiring --> expired

Every change that must be announced puts its event, with a fresh id, into the
record's outbox in the same compare-and-set: the id is fixed before publishing.
An operation against Tailscale (`op`) carries a lease; while it runs, other
messages about the grant are "busy" and retried later.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from services.grants.domain import announcements
from services.grants.domain.holders import Holder
from services.grants.domain.records import (
    ApplyOp,
    ExpireOp,
    ExtendOp,
    ExtensionOutcome,
    Failure,
    GrantRecord,
    GrantStatus,
    RevokeOp,
)
from shared.contracts.events import Event, Person, RefusalReason, RequestApproved
from shared.persistence.outbox import OutboxEntry, retain

# Fired this much before the expiry still counts (schedules are rounded up to the second).
EARLY_TOLERANCE = timedelta(milliseconds=500)
# A timer whose due time differs from the grant's expiry by more than this is stale.
DUE_TOLERANCE = timedelta(seconds=1)

ALLOWED: dict[GrantStatus, frozenset[GrantStatus]] = {
    GrantStatus.APPLYING: frozenset({GrantStatus.ACTIVE, GrantStatus.FAILED}),
    GrantStatus.ACTIVE: frozenset(
        {GrantStatus.EXTENDING, GrantStatus.REVOKING, GrantStatus.EXPIRING}
    ),
    GrantStatus.EXTENDING: frozenset({GrantStatus.ACTIVE}),
    GrantStatus.REVOKING: frozenset({GrantStatus.REVOKED}),
    GrantStatus.EXPIRING: frozenset({GrantStatus.EXPIRED}),
}


class InvalidTransitionError(ValueError):
    """A state change the machine does not allow (a bug, never a user error)."""


class Step(StrEnum):
    """What a handler should do with a grant, given its record."""

    START = "start"  # claim it: begin the operation
    RESUME = "resume"  # its owner's lease ran out: take the operation over
    BUSY = "busy"  # another operation is in flight: retry the message later
    DONE = "done"  # already decided: only make sure the outbox is published
    REFUSE = "refuse"  # not possible in this state: announce why
    IGNORE = "ignore"  # nothing to do (a stale or duplicate timer)


def whole_second_ceiling(moment: datetime) -> datetime:
    """`moment` rounded up to a whole second (the precision of expiries and timers)."""
    utc = moment.astimezone(UTC)
    return utc.replace(microsecond=0) + timedelta(seconds=1 if utc.microsecond else 0)


def _owned(record: GrantRecord, now: datetime) -> Step:
    """The operation in flight is the one asked for: take it over only if its lease ran out."""
    return Step.RESUME if record.lease_free(now) else Step.BUSY


# --- deciding -----------------------------------------------------------------------


def step_for_apply(record: GrantRecord | None, now: datetime) -> Step:
    """An approval: start, resume an interrupted apply, or just re-announce."""
    if record is None:
        return Step.START
    if isinstance(record.op, ApplyOp):
        return _owned(record, now)
    return Step.DONE


def step_for_extension(record: GrantRecord | None, extension_id: str, now: datetime) -> Step:
    """An approved extension: only an active grant can be extended, once per extension id."""
    if record is None:
        return Step.REFUSE
    if extension_id in record.extensions:
        return Step.DONE
    if isinstance(record.op, ExtendOp) and record.op.extension_id == extension_id:
        return _owned(record, now)
    if record.op is not None:
        return Step.BUSY
    return Step.START if record.status is GrantStatus.ACTIVE else Step.REFUSE


def step_for_revoke(  # noqa: PLR0911 - a decision table reads best as early returns
    record: GrantRecord | None, source_event_id: str, *, allowed: bool, now: datetime
) -> tuple[Step, RefusalReason | None]:
    """A revoke: the same click again is idempotent; others must be allowed and find it active."""
    if record is None:
        return Step.REFUSE, RefusalReason.NOT_ACTIVE
    if record.revoke_source_event_id == source_event_id:
        if isinstance(record.op, RevokeOp):
            return _owned(record, now), None
        return Step.DONE, None
    if not allowed:
        return Step.REFUSE, RefusalReason.NOT_ELIGIBLE
    if record.op is not None:
        return Step.BUSY, None
    if record.status is not GrantStatus.ACTIVE:
        return Step.REFUSE, RefusalReason.NOT_ACTIVE
    return Step.START, None


def step_for_expiry(  # noqa: PLR0911 - a decision table reads best as early returns
    record: GrantRecord | None, *, generation: int, due_at: datetime, now: datetime
) -> Step:
    """A fired expiry timer: only the current generation of an active grant, once due."""
    if record is None:
        return Step.IGNORE
    if isinstance(record.op, ExpireOp) and record.op.generation == generation:
        return _owned(record, now)
    if record.status is GrantStatus.EXPIRED:
        return Step.DONE
    if generation != record.generation:
        return Step.IGNORE
    if record.op is not None:
        return Step.BUSY  # an extension may move the expiry: decide after it
    if record.status is not GrantStatus.ACTIVE:
        return Step.IGNORE
    if abs(due_at - record.expires_at) > DUE_TOLERANCE:
        return Step.IGNORE
    if now < record.expires_at - EARLY_TOLERANCE:
        return Step.BUSY  # fired early: try again
    return Step.START


# --- changing -----------------------------------------------------------------------


def _move(record: GrantRecord, to: GrantStatus, now: datetime, **changes: object) -> GrantRecord:
    if to not in ALLOWED.get(record.status, frozenset()):
        raise InvalidTransitionError(f"grant {record.request_id}: {record.status} -> {to}")
    return record.model_copy(update={"status": to, "updated_at": now, **changes})


def _announce(
    record: GrantRecord, kind: str, event: Event, now: datetime
) -> tuple[str, dict[str, object]]:
    """The event id (fixed here, before publishing) and the changes that put it in the outbox."""
    entry = OutboxEntry.of(event, time=now)
    event_id = entry.event_id
    return event_id, {
        "outbox": [*record.outbox, entry],
        "event_ids": {**record.event_ids, kind: event_id},
    }


def _lease(now: datetime, seconds: float) -> datetime:
    return now + timedelta(seconds=seconds)


def new_grant(
    event: RequestApproved, *, comment: str, now: datetime, lease_seconds: float
) -> GrantRecord:
    """Claim an approved request: expiry computed now, the apply op leased to the caller."""
    return GrantRecord(
        request_id=event.request_id,
        requester=event.requester,
        profile_id=event.profile_id,
        device_id=event.device.node_id,
        attribute=event.attribute,
        value=event.value,
        duration_seconds=event.duration_seconds,
        comment=comment,
        status=GrantStatus.APPLYING,
        expires_at=whole_second_ceiling(now) + timedelta(seconds=event.duration_seconds),
        op=ApplyOp(lease_until=_lease(now, lease_seconds)),
        approved_at=event.approved_at,
        updated_at=now,
    )


def relet(record: GrantRecord, *, now: datetime, lease_seconds: float) -> GrantRecord:
    """Take over (or renew) the lease of the operation in flight."""
    if record.op is None:
        raise InvalidTransitionError(f"grant {record.request_id}: no operation to lease")
    op = record.op.model_copy(update={"lease_until": _lease(now, lease_seconds)})
    return record.model_copy(update={"op": op, "updated_at": now})


def release(record: GrantRecord, *, now: datetime) -> GrantRecord:
    """Give the lease up after a failure, so a retry need not wait for it to run out."""
    if record.op is None:
        return record
    op = record.op.model_copy(update={"lease_until": None})
    return record.model_copy(update={"op": op, "updated_at": now})


def recomputed_expiry(record: GrantRecord, *, now: datetime) -> GrantRecord:
    """An interrupted apply that never reached Tailscale: its expiry counts from now."""
    expires_at = whole_second_ceiling(now) + timedelta(seconds=record.duration_seconds)
    return record.model_copy(update={"expires_at": expires_at, "updated_at": now})


def applied(record: GrantRecord, *, now: datetime) -> GrantRecord:
    """The attribute is set: active, timer to schedule, `applied` to announce."""
    return _move(
        record,
        GrantStatus.ACTIVE,
        now,
        op=None,
        applied_at=now,
        timer_pending=True,
        **_announce(record, "applied", announcements.grant_applied(record, now), now)[1],
    )


def apply_failed(record: GrantRecord, failure: Failure, *, now: datetime) -> GrantRecord:
    """The attribute could not be set: failed, `failed` to announce."""
    return _move(
        record,
        GrantStatus.FAILED,
        now,
        op=None,
        failure=failure,
        **_announce(record, "failed", announcements.grant_failed(record, failure), now)[1],
    )


def begin_extension(
    record: GrantRecord,
    *,
    extension_id: str,
    additional_seconds: int,
    comment: str,
    now: datetime,
    lease_seconds: float,
) -> GrantRecord:
    """Claim an extension: the new expiry is the old one plus the time added."""
    op = ExtendOp(
        lease_until=_lease(now, lease_seconds),
        extension_id=extension_id,
        additional_seconds=additional_seconds,
        new_expires_at=record.expires_at + timedelta(seconds=additional_seconds),
        comment=comment,
    )
    return _move(record, GrantStatus.EXTENDING, now, op=op)


def extended(record: GrantRecord, *, now: datetime) -> GrantRecord:
    """The new expiry is set: active again, the timer moves (next generation)."""
    op = record.op
    if not isinstance(op, ExtendOp):
        raise InvalidTransitionError(f"grant {record.request_id}: no extension in flight")
    event = announcements.grant_extended(
        record,
        extension_id=op.extension_id,
        expires_at=op.new_expires_at,
        previous=record.expires_at,
    )
    event_id, changes = _announce(record, f"extended:{op.extension_id}", event, now)
    outcome = ExtensionOutcome(outcome="extended", event_id=event_id)
    return _move(
        record,
        GrantStatus.ACTIVE,
        now,
        op=None,
        expires_at=op.new_expires_at,
        generation=record.generation + 1,
        timer_pending=True,
        extensions={**record.extensions, op.extension_id: outcome},
        **changes,
    )


def extension_failed(
    record: GrantRecord, extension_id: str, failure: Failure, *, now: datetime
) -> GrantRecord:
    """The extension could not be applied (or the grant is not active): the expiry stays."""
    event = announcements.grant_failed(record, failure, extension_id=extension_id)
    event_id, changes = _announce(record, f"extension_failed:{extension_id}", event, now)
    outcome = ExtensionOutcome(outcome="failed", event_id=event_id)
    extensions = {**record.extensions, extension_id: outcome}
    if record.status is GrantStatus.EXTENDING:
        return _move(record, GrantStatus.ACTIVE, now, op=None, extensions=extensions, **changes)
    return record.model_copy(update={"extensions": extensions, "updated_at": now, **changes})


def begin_revoke(
    record: GrantRecord,
    *,
    source_event_id: str,
    actor: Person,
    reason: str | None,
    now: datetime,
    lease_seconds: float,
) -> GrantRecord:
    """Claim a revoke by an allowed actor."""
    op = RevokeOp(
        lease_until=_lease(now, lease_seconds),
        source_event_id=source_event_id,
        actor=actor,
        reason=reason,
    )
    return _move(record, GrantStatus.REVOKING, now, op=op, revoke_source_event_id=source_event_id)


def revoked(record: GrantRecord, *, now: datetime, continues: Holder | None = None) -> GrantRecord:
    """The grant is over early: revoked, with who, why and which grant keeps the attribute."""
    op = record.op
    if not isinstance(op, RevokeOp):
        raise InvalidTransitionError(f"grant {record.request_id}: no revoke in flight")
    event = announcements.grant_revoked(
        record, actor=op.actor, reason=op.reason, revoked_at=now, continues=continues
    )
    return _move(
        record,
        GrantStatus.REVOKED,
        now,
        op=None,
        ended_at=now,
        revoked_by=op.actor,
        **_announce(record, "revoked", event, now)[1],
    )


def begin_expiry(record: GrantRecord, *, now: datetime, lease_seconds: float) -> GrantRecord:
    """Claim the expiry of the current timer generation."""
    op = ExpireOp(lease_until=_lease(now, lease_seconds), generation=record.generation)
    return _move(record, GrantStatus.EXPIRING, now, op=op)


def expired(record: GrantRecord, *, now: datetime, continues: Holder | None = None) -> GrantRecord:
    """The time is over: expired, announced once (with the grant that keeps the attribute)."""
    event = announcements.grant_expired(record, now, continues=continues)
    return _move(
        record,
        GrantStatus.EXPIRED,
        now,
        op=None,
        ended_at=now,
        **_announce(record, "expired", event, now)[1],
    )


def published(
    record: GrantRecord, *, event_ids: set[str], scheduled_generation: int | None, now: datetime
) -> GrantRecord:
    """Drop outbox entries confirmed published, and the timer flag if that timer is set."""
    outbox = retain(record.outbox, event_ids, keep=0)
    timer_pending = record.timer_pending and scheduled_generation != record.generation
    if outbox == record.outbox and timer_pending == record.timer_pending:
        return record
    return record.model_copy(
        update={"outbox": outbox, "timer_pending": timer_pending, "updated_at": now}
    )
