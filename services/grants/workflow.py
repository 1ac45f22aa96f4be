"""What grants does with each message: decide (transitions), claim (CAS), act, announce.

Every handler is idempotent. A grant is claimed in KV before Tailscale is called
(an operation with a lease); the outcome and its event are written together,
then published with the stored event id. A message that finds another operation
in flight raises GrantBusyError and is redelivered later; one that finds an
interrupted operation whose lease ran out takes it over.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import structlog

from services.grants import announcements, transitions
from services.grants.attribute_changes import AttributeApi
from services.grants.comment import extension_comment, grant_comment
from services.grants.operations import GrantBusyError, OperationRunner, try_update
from services.grants.outbox import Announcer, Outbox
from services.grants.records import Failure, GrantRecord
from services.grants.revoke_policy import refusal_facts
from services.grants.store import GrantConflictError, GrantStore, HoldersStore, Stored
from services.grants.transitions import Step
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import (
    ApprovalMode,
    ExtensionApproved,
    GrantFailed,
    RefusalFacts,
    RefusalReason,
    RefusalWording,
    RequestApproved,
    RevokeGrant,
)
from shared.durations import format_duration
from shared.ids import deterministic_id
from shared.profiles import ProfilesConfig
from shared.timers import TimerFired

CAS_ATTEMPTS = 5
UNKNOWN_DEVICE = "unknown"

log = structlog.get_logger("accessbot.grants")

_NO_APPROVER = {
    ApprovalMode.AUTO: "auto-approval",
    ApprovalMode.SELF: "self-approval",
    ApprovalMode.BREAK_GLASS: "break glass",
    ApprovalMode.QUORUM: "nobody",
}


class GrantWorkflow:
    """The grants service's domain handlers, one per consumed message kind."""

    def __init__(
        self,
        *,
        store: GrantStore,
        holders: HoldersStore,
        tailscale: AttributeApi,
        outbox: Outbox,
        announcer: Announcer,
        profiles: ProfilesConfig,
        lease_seconds: float,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._outbox = outbox
        self._operations = OperationRunner(
            store=store,
            holders=holders,
            tailscale=tailscale,
            outbox=outbox,
            lease_seconds=lease_seconds,
            now=now,
            clock=clock,
        )
        self._announcer = announcer
        self._profiles = profiles
        self._lease = lease_seconds
        self._now = now

    # --- handlers ---------------------------------------------------------------------

    async def on_approved(self, envelope: Envelope[RequestApproved]) -> None:
        """Apply an approved request's attribute, once."""
        event = envelope.event
        for _ in range(CAS_ATTEMPTS):
            stored = await self._store.get(event.request_id)
            now = self._now()
            step = transitions.step_for_apply(_record(stored), now)
            if step is Step.START:
                label = _NO_APPROVER[event.mode]
                comment = grant_comment(
                    request_id=event.request_id,
                    requester=event.requester.email,
                    approvers=[p.email for p in event.approvers] or [label],
                    reason=event.reason,
                )
                record = transitions.new_grant(
                    event, comment=comment, now=now, lease_seconds=self._lease
                )
                try:
                    claimed = await self._store.create(record)
                except GrantConflictError:
                    continue
                await self._run(claimed, resumed=False)
                return
            if await self._common(stored, step):
                return
        raise GrantBusyError(event.request_id, "the record kept changing under us")

    async def on_extension(self, envelope: Envelope[ExtensionApproved]) -> None:
        """Move an active grant's expiry by the approved time, once per extension id."""
        event = envelope.event
        for _ in range(CAS_ATTEMPTS):
            stored = await self._store.get(event.request_id)
            now = self._now()
            step = transitions.step_for_extension(_record(stored), event.extension_id, now)
            if step is Step.REFUSE:
                if await self._refuse_extension(envelope, stored):
                    return
                continue
            if step is Step.START:
                assert stored is not None  # START implies a record
                record = stored.record
                comment = extension_comment(
                    request_id=record.request_id,
                    requester=record.requester.email,
                    added=format_duration(timedelta(seconds=event.additional_seconds)),
                    approvers=[p.email for p in event.approvers] or ["auto-approval"],
                )
                changed = transitions.begin_extension(
                    record,
                    extension_id=event.extension_id,
                    additional_seconds=event.additional_seconds,
                    comment=comment,
                    now=now,
                    lease_seconds=self._lease,
                )
                if (claimed := await self._try_update(changed, stored)) is None:
                    continue
                await self._run(claimed, resumed=False)
                return
            if await self._common(stored, step):
                return
        raise GrantBusyError(event.request_id, "the record kept changing under us")

    async def on_revoke(self, envelope: Envelope[RevokeGrant]) -> None:
        """Remove the attribute early for an allowed actor; refuse anyone else."""
        event = envelope.event
        for _ in range(CAS_ATTEMPTS):
            stored = await self._store.get(event.request_id)
            record = _record(stored)
            allowed = record is not None and self._profiles.may_revoke(
                event.actor.email, requester=record.requester.email, profile_id=record.profile_id
            )
            now = self._now()
            step, code = transitions.step_for_revoke(
                record, envelope.meta.id, allowed=allowed, now=now
            )
            if step is Step.REFUSE:
                assert code is not None  # REFUSE always names its reason
                await self._refuse_revoke(envelope, record, code)
                return
            if step is Step.START:
                assert stored is not None  # START implies a record
                changed = transitions.begin_revoke(
                    stored.record,
                    source_event_id=envelope.meta.id,
                    actor=event.actor,
                    reason=event.reason,
                    now=now,
                    lease_seconds=self._lease,
                )
                if (claimed := await self._try_update(changed, stored)) is None:
                    continue
                await self._run(claimed, resumed=False)
                return
            if await self._common(stored, step):
                return
        raise GrantBusyError(event.request_id, "the record kept changing under us")

    async def on_expiry_timer(self, fired: TimerFired) -> None:
        """Delete the attribute of a grant whose time is over, then announce it once."""
        for _ in range(CAS_ATTEMPTS):
            stored = await self._store.get(fired.request_id)
            now = self._now()
            step = transitions.step_for_expiry(
                _record(stored), generation=fired.generation, due_at=fired.due_at, now=now
            )
            if step is Step.IGNORE:
                log.info(
                    "grant.timer_ignored",
                    generation=fired.generation,
                    due_at=fired.due_at.isoformat(),
                )
                return
            if step is Step.START:
                assert stored is not None  # START implies a record
                changed = transitions.begin_expiry(
                    stored.record, now=now, lease_seconds=self._lease
                )
                if (claimed := await self._try_update(changed, stored)) is None:
                    continue
                await self._run(claimed, resumed=False)
                return
            if await self._common(stored, step):
                return
        raise GrantBusyError(fired.request_id, "the record kept changing under us")

    async def resume(self, request_id: str) -> None:
        """Finish whatever a record has unfinished (start-up sweep); GrantBusyError if owned."""
        for _ in range(CAS_ATTEMPTS):
            stored = await self._store.get(request_id)
            if stored is None:
                return
            step = Step.DONE
            if stored.record.op is not None:
                step = Step.RESUME if stored.record.lease_free(self._now()) else Step.BUSY
            if await self._common(stored, step):
                return
        raise GrantBusyError(request_id, "the record kept changing under us")

    # --- shared steps -----------------------------------------------------------------

    async def _common(self, stored: Stored | None, step: Step) -> bool:
        """RESUME, BUSY and DONE are handled alike everywhere; False means decide again."""
        if stored is None:
            return True
        if step is Step.BUSY:
            op = stored.record.op
            lease = op.lease_until if op is not None else None
            raise GrantBusyError(
                stored.record.request_id,
                f"{op.kind if op else 'an operation'} in flight (status {stored.record.status})",
                lease,
            )
        if step is Step.RESUME:
            changed = transitions.relet(stored.record, now=self._now(), lease_seconds=self._lease)
            if (claimed := await self._try_update(changed, stored)) is None:
                return False
            log.warning("grant.operation_resumed", op=changed.op.kind if changed.op else None)
            await self._run(claimed, resumed=True)
            return True
        await self._outbox.flush(stored)
        return True

    async def _try_update(self, record: GrantRecord, stored: Stored) -> Stored | None:
        return await try_update(self._store, record, stored)

    async def _run(self, claimed: Stored, *, resumed: bool) -> None:
        await self._operations.run(claimed, resumed=resumed)

    # --- refusals ---------------------------------------------------------------------

    async def _refuse_extension(
        self, envelope: Envelope[ExtensionApproved], stored: Stored | None
    ) -> bool:
        """Announce that an extension cannot apply; False when the record changed meanwhile."""
        event = envelope.event
        if stored is not None:
            status = stored.record.status
            failure = Failure(
                error_code=RefusalReason.NOT_ACTIVE.value,
                message=f"The grant is {status}, so it cannot be extended.",
                retryable=False,
            )
            changed = transitions.extension_failed(
                stored.record, event.extension_id, failure, now=self._now()
            )
            if (done := await self._try_update(changed, stored)) is None:
                return False
            await self._outbox.flush(done)
            return True
        # Never applied here: nothing to store, so the event id derives from the extension.
        profile = self._profiles.get(event.profile_id)
        failed = GrantFailed(
            request_id=event.request_id,
            requester=event.requester,
            profile_id=event.profile_id,
            device_id=UNKNOWN_DEVICE,
            attribute=profile.attribute if profile is not None else "custom:unknown",
            error_code="unknown_grant",
            message="Grants has no record of this access, so it cannot be extended.",
            retryable=False,
            extension_id=event.extension_id,
        )
        event_id = deterministic_id(envelope.meta.time, f"grants:extension:{event.extension_id}")
        await self._announcer.publish(failed, event_id=event_id)
        return True

    async def _refuse_revoke(
        self,
        envelope: Envelope[RevokeGrant],
        record: GrantRecord | None,
        code: RefusalReason,
    ) -> None:
        """Tell the clicker why not; the id derives from their click, so a redelivery dedupes."""
        event = envelope.event
        if code is RefusalReason.NOT_ELIGIBLE and record is not None:
            facts = refusal_facts(record.profile_id, self._profiles)
        elif record is None:
            facts = RefusalFacts(wording=RefusalWording.NOTHING_ACTIVE)
        else:
            facts = RefusalFacts(
                wording=RefusalWording.NOT_ACTIVE_ANY_MORE, state=record.status.value
            )
        refused = announcements.revoke_refused(
            event.request_id, actor=event.actor, code=code, facts=facts
        )
        event_id = deterministic_id(envelope.meta.time, f"grants:revoke:{envelope.meta.id}")
        log.info("grant.revoke_refused", code=code.value, actor=event.actor.email)
        await self._announcer.publish(refused, event_id=event_id)


def _record(stored: Stored | None) -> GrantRecord | None:
    return stored.record if stored is not None else None
