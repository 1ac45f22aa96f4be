"""Carrying out a leased grant operation against Tailscale, then recording and announcing it.

The caller has claimed the operation (status and lease written by compare-and-set).
Tailscale calls end before the lease does, so nobody taking the operation over can
overlap with us. The outcome and its event are written together, then published.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from services.grants.domain import transitions
from services.grants.domain.holders import Holder, TooManyHoldersError
from services.grants.domain.records import (
    ApplyOp,
    ExpireOp,
    ExtendOp,
    Failure,
    GrantRecord,
    RevokeOp,
)
from services.grants.domain.tailscale_errors import TailscaleError
from services.grants.handlers.attribute_changes import failure_from
from services.grants.handlers.holders_store import HoldersStore
from services.grants.handlers.outbox import Outbox
from services.grants.handlers.shared_attribute import SharedAttribute
from services.grants.ports import AttributeApi, GrantStore, Stored
from shared.persistence.versioned import ConflictError
from shared.retry import RetryLaterError

# Stop calling Tailscale this long before the lease runs out, so nobody overlaps us.
LEASE_SAFETY_SECONDS = 1.0

log = structlog.get_logger("accessbot.grants")


class GrantBusyError(RetryLaterError):
    """Another operation on this grant is in flight; try again after `retry_at`."""

    def __init__(self, request_id: str, reason: str, retry_at: datetime | None = None) -> None:
        self.request_id = request_id
        self.retry_at = retry_at
        delay = 1.0
        if retry_at is not None:
            delay = min(30.0, max(0.5, (retry_at - datetime.now(UTC)).total_seconds()))
        super().__init__(f"grant {request_id} is busy: {reason}", delay=delay)


async def try_update(store: GrantStore, record: GrantRecord, stored: Stored) -> Stored | None:
    """Compare-and-set `record` over `stored`, once; None when someone changed it first."""
    try:
        return await store.update(record, stored.revision)
    except ConflictError:
        return None


class OperationRunner:
    """Runs apply, extend, revoke and expire operations to their recorded outcome."""

    def __init__(
        self,
        *,
        store: GrantStore,
        holders: HoldersStore,
        tailscale: AttributeApi,
        outbox: Outbox,
        lease_seconds: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._api = tailscale
        self._shared = SharedAttribute(holders, tailscale, now=now)
        self._outbox = outbox
        self._lease = lease_seconds
        self._now = now
        self._clock = clock

    async def run(self, claimed: Stored, *, resumed: bool) -> None:
        """Carry out the leased operation, record its outcome, and announce it."""
        record = claimed.record
        op = record.op
        deadline = self._deadline(record)
        try:
            if isinstance(op, ApplyOp):
                outcome = await self._apply(claimed, resumed=resumed, deadline=deadline)
            elif isinstance(op, ExtendOp):
                outcome = await self._extend(claimed, op, resumed=resumed, deadline=deadline)
            elif isinstance(op, RevokeOp | ExpireOp):
                keeper = await self._shared.leave(
                    record.device_id, record.attribute, _holder(record), deadline=deadline
                )
                finish = transitions.revoked if isinstance(op, RevokeOp) else transitions.expired
                outcome = claimed, finish(record, now=self._now(), continues=keeper)
            else:
                return
        except Exception:
            # Let a redelivery retry at once rather than wait for the lease to run out.
            await try_update(self._store, transitions.release(record, now=self._now()), claimed)
            raise
        base, final = outcome
        done = await try_update(self._store, final, base)
        if done is None:
            raise GrantBusyError(record.request_id, "the operation was taken over")
        log.info(
            "grant.changed",
            op=op.kind,
            status=final.status.value,
            expires_at=final.expires_at.isoformat(),
        )
        await self._outbox.flush(done)

    async def _apply(
        self, claimed: Stored, *, resumed: bool, deadline: float
    ) -> tuple[Stored, GrantRecord]:
        record = claimed.record
        try:
            if resumed:
                # The previous owner may or may not have set it: look; if not, count from now.
                found = await self._api.get_attributes(record.device_id, deadline=deadline)
                expected = await self._shared.expected_expiry(
                    record.device_id, record.attribute, _holder(record)
                )
                if found.holds(record.attribute, record.value, expected):
                    log.info("grant.attribute_already_set", device_id=record.device_id)
                    return claimed, transitions.applied(record, now=self._now())
                fresher = await try_update(
                    self._store, transitions.recomputed_expiry(record, now=self._now()), claimed
                )
                if fresher is None:
                    raise GrantBusyError(record.request_id, "the operation was taken over")
                claimed, record = fresher, fresher.record
            await self._shared.join(
                record.device_id,
                record.attribute,
                _holder(record),
                previous=None,
                check_first=False,
                deadline=deadline,
            )
        except TailscaleError as exc:
            failure = failure_from(exc)
            log.warning("grant.apply_failed", error_code=failure.error_code, reason=str(exc))
            return claimed, transitions.apply_failed(record, failure, now=self._now())
        except TooManyHoldersError as exc:
            failure = Failure(error_code="too_many_overlapping_grants", message=str(exc))
            log.warning("grant.apply_failed", error_code=failure.error_code, reason=str(exc))
            return claimed, transitions.apply_failed(record, failure, now=self._now())
        return claimed, transitions.applied(record, now=self._now())

    async def _extend(
        self, claimed: Stored, op: ExtendOp, *, resumed: bool, deadline: float
    ) -> tuple[Stored, GrantRecord]:
        record = claimed.record
        try:
            await self._shared.join(
                record.device_id,
                record.attribute,
                _holder(record, expires_at=op.new_expires_at, comment=op.comment),
                previous=_holder(record),
                check_first=resumed,
                deadline=deadline,
            )
        except TailscaleError as exc:
            failure = failure_from(exc)
            log.warning("grant.extension_failed", error_code=failure.error_code, reason=str(exc))
            changed = transitions.extension_failed(
                record, op.extension_id, failure, now=self._now()
            )
            return claimed, changed
        return claimed, transitions.extended(record, now=self._now())

    def _deadline(self, record: GrantRecord) -> float:
        """The monotonic time by which Tailscale calls must end: before the lease does."""
        lease_until = record.op.lease_until if record.op is not None else None
        if lease_until is None:
            return self._clock() + self._lease - LEASE_SAFETY_SECONDS
        left = (lease_until - self._now()).total_seconds() - LEASE_SAFETY_SECONDS
        return self._clock() + max(0.0, left)


def _holder(
    record: GrantRecord, *, expires_at: datetime | None = None, comment: str | None = None
) -> Holder:
    """The grant's claim on its attribute (an extension moves its end)."""
    return Holder(
        request_id=record.request_id,
        value=record.value,
        expires_at=expires_at or record.expires_at,
        comment=comment or record.comment,
    )
