"""Grant outcomes reported by grants, tracked in the request record (for extensions).

Grant events arrive on separate consumers, so in any order: an ended grant stays
ended, expiries only move forward, and an extension counts once.
"""

from __future__ import annotations

from datetime import datetime

from services.approvals.domain.extensions import with_extension
from services.approvals.domain.record import (
    ExtensionStatus,
    GrantStatus,
    GrantTracking,
    RequestRecord,
)
from services.approvals.domain.step import Step, unchanged
from shared.contracts.events import (
    GrantApplied,
    GrantEvent,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
)


def granted_seconds(record: RequestRecord) -> int:
    """The request's time plus every extension grants applied."""
    return record.duration_seconds + sum(
        e.additional_seconds
        for e in record.extensions.values()
        if e.status is ExtensionStatus.APPLIED
    )


def _later(a: datetime | None, b: datetime) -> datetime:
    return b if a is None else max(a, b)


def track(record: RequestRecord | None, event: GrantEvent) -> Step:
    """The record with the grant's new state, or unchanged (with why, for the log)."""
    if record is None:
        return unchanged("grant event for an unknown request")
    updated = _with_total(_apply(record, event))
    if updated == record:
        return unchanged("grant state already up to date")
    return Step(record=updated)


def _apply(record: RequestRecord, event: GrantEvent) -> RequestRecord:
    grant = record.grant
    ended = grant is not None and grant.status is not GrantStatus.ACTIVE
    if isinstance(event, GrantExtended):
        ext = record.extensions.get(event.extension_id)
        if ext is not None and ext.status is ExtensionStatus.APPROVED:
            record = with_extension(
                record, ext.model_copy(update={"status": ExtensionStatus.APPLIED})
            )
    if isinstance(event, GrantApplied | GrantExtended) and not ended:
        return _set_grant(
            record,
            GrantStatus.ACTIVE,
            _later(grant.expires_at if grant else None, event.expires_at),
        )
    if isinstance(event, GrantExpired | GrantRevoked) and not ended:
        status = GrantStatus.EXPIRED if isinstance(event, GrantExpired) else GrantStatus.REVOKED
        return _set_grant(record, status, grant.expires_at if grant else None)
    if isinstance(event, GrantFailed):
        return _failed(record, event)
    return record


def _with_total(record: RequestRecord) -> RequestRecord:
    grant = record.grant
    if grant is None or grant.status is GrantStatus.FAILED:
        return record
    total = granted_seconds(record)
    if grant.granted_seconds == total:
        return record
    return record.model_copy(update={"grant": grant.model_copy(update={"granted_seconds": total})})


def _failed(record: RequestRecord, event: GrantFailed) -> RequestRecord:
    if event.extension_id is not None:
        ext = record.extensions.get(event.extension_id)
        if ext is None or ext.status is not ExtensionStatus.APPROVED:
            return record
        return with_extension(record, ext.model_copy(update={"status": ExtensionStatus.FAILED}))
    if record.grant is not None:
        return record  # the attribute was set; a later failure does not unset our view of it
    return record.model_copy(
        update={
            "grant": GrantTracking(
                status=GrantStatus.FAILED, granted_seconds=0, reason=event.message
            )
        }
    )


def _set_grant(
    record: RequestRecord, status: GrantStatus, expires_at: datetime | None
) -> RequestRecord:
    tracking = GrantTracking(
        status=status, expires_at=expires_at, granted_seconds=granted_seconds(record)
    )
    return record.model_copy(update={"grant": tracking})
