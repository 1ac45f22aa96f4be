"""The events grants publishes, built from a grant record (pure)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from services.grants.domain.holders import Holder
from services.grants.domain.records import Failure, GrantRecord
from shared.contracts.events import (
    GrantApplied,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
    Person,
    RefusalFacts,
    RefusalReason,
    RevokeRefused,
)
from shared.wording import refusal_text


def grant_applied(record: GrantRecord, applied_at: datetime) -> GrantApplied:
    """The attribute is set, with its real expiry."""
    return GrantApplied(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        device_id=record.device_id,
        attribute=record.attribute,
        value=record.value,
        expires_at=record.expires_at,
        applied_at=applied_at,
    )


def grant_failed(
    record: GrantRecord, failure: Failure, *, extension_id: str | None = None
) -> GrantFailed:
    """The attribute could not be set (or its expiry moved)."""
    return GrantFailed(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        device_id=record.device_id,
        attribute=record.attribute,
        error_code=failure.error_code,
        message=failure.message,
        status_code=failure.status_code,
        retryable=failure.retryable,
        extension_id=extension_id,
    )


def grant_extended(
    record: GrantRecord, *, extension_id: str, expires_at: datetime, previous: datetime
) -> GrantExtended:
    """The expiry moved."""
    return GrantExtended(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        device_id=record.device_id,
        attribute=record.attribute,
        extension_id=extension_id,
        expires_at=expires_at,
        previous_expires_at=previous,
    )


def grant_revoked(
    record: GrantRecord,
    *,
    actor: Person,
    reason: str | None,
    revoked_at: datetime,
    continues: Holder | None = None,
) -> GrantRevoked:
    """The grant ended early (its attribute removed, or kept by `continues`)."""
    return GrantRevoked(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        device_id=record.device_id,
        attribute=record.attribute,
        revoked_by=actor,
        reason=reason,
        revoked_at=revoked_at,
        **_continuation(continues),
    )


def grant_expired(
    record: GrantRecord, expired_at: datetime, *, continues: Holder | None = None
) -> GrantExpired:
    """The grant's time is over (its attribute removed, or kept by `continues`)."""
    return GrantExpired(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        device_id=record.device_id,
        attribute=record.attribute,
        expired_at=expired_at,
        **_continuation(continues),
    )


def _continuation(continues: Holder | None) -> dict[str, Any]:
    if continues is None:
        return {}
    return {"continues_under": continues.request_id, "continues_until": continues.expires_at}


def revoke_refused(
    request_id: str, *, actor: Person, code: RefusalReason, facts: RefusalFacts
) -> RevokeRefused:
    """A revoke that does not count, and why (`message`: the English, for SIEM readers)."""
    return RevokeRefused(
        request_id=request_id,
        actor=actor,
        code=code,
        message=refusal_text(facts, "revoke"),
        facts=facts,
    )
