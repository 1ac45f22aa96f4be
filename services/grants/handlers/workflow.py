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
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

import structlog

from services.grants.domain import announcements, transitions
from services.grants.domain.comment import extension_comment, grant_comment
from services.grants.domain.records import Failure, GrantRecord
from services.grants.domain.revoke_policy import refusal_facts
from services.grants.domain.transitions import Step
from services.grants.handlers.holders_store import HoldersStore
from services.grants.handlers.operations import GrantBusyError, OperationRunner
from services.grants.handlers.outbox import Outbox
from services.grants.ports import Announcer, AttributeApi, GrantStore, Stored
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
from shared.persistence.transact import Decision, TooManyConflictsError, Transacted, transact
from shared.profiles import ProfilesConfig
from shared.timers import TimerFired

UNKNOWN_DEVICE = "unknown"

log = structlog.get_logger("accessbot.grants")


class Action(StrEnum):
    """What a handler does once its decision is stored."""

    RUN = "run"  # carry out the operation just claimed
    RESUME = "resume"  # take over an operation whose owner's lease ran out
    FLUSH = "flush"  # decided before: only make sure the outbox is published
    NOTHING = "nothing"
    IGNORED = "ignored"  # a stale or early timer
    UNKNOWN_EXTENSION = "unknown_extension"  # refuse an extension grants never applied
    REFUSE_REVOKE = "refuse_revoke"


@dataclass(frozen=True, slots=True)
class Then:
    """The action, and the refusal's reason when it refuses."""

    action: Action
    code: RefusalReason | None = None


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

        def decide(stored: Stored | None) -> Decision[GrantRecord, Then]:
            now = self._now()
            step = transitions.step_for_apply(_record(stored), now)
            if step is not Step.START:
                return self._common(stored, step, now)
            comment = grant_comment(
                request_id=event.request_id,
                requester=event.requester.email,
                approvers=[p.email for p in event.approvers] or [_NO_APPROVER[event.mode]],
                reason=event.reason,
            )
            record = transitions.new_grant(
                event, comment=comment, now=now, lease_seconds=self._lease
            )
            return Decision(record, Then(Action.RUN))

        await self._act(await self._transact(event.request_id, decide))

    async def on_extension(self, envelope: Envelope[ExtensionApproved]) -> None:
        """Move an active grant's expiry by the approved time, once per extension id."""
        event = envelope.event

        def decide(stored: Stored | None) -> Decision[GrantRecord, Then]:
            now = self._now()
            step = transitions.step_for_extension(_record(stored), event.extension_id, now)
            if step is Step.REFUSE:
                if stored is None:  # never applied here: nothing to store
                    return Decision(None, Then(Action.UNKNOWN_EXTENSION))
                failure = Failure(
                    error_code=RefusalReason.NOT_ACTIVE.value,
                    message=f"The grant is {stored.record.status}, so it cannot be extended.",
                    retryable=False,
                )
                failed = transitions.extension_failed(
                    stored.record, event.extension_id, failure, now=now
                )
                return Decision(failed, Then(Action.FLUSH))
            if step is not Step.START:
                return self._common(stored, step, now)
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
            return Decision(changed, Then(Action.RUN))

        done = await self._transact(event.request_id, decide)
        if done.outcome.action is Action.UNKNOWN_EXTENSION:
            await self._refuse_unknown_extension(envelope)
            return
        await self._act(done)

    async def on_revoke(self, envelope: Envelope[RevokeGrant]) -> None:
        """Remove the attribute early for an allowed actor; refuse anyone else."""
        event = envelope.event

        def decide(stored: Stored | None) -> Decision[GrantRecord, Then]:
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
                return Decision(None, Then(Action.REFUSE_REVOKE, code))
            if step is not Step.START:
                return self._common(stored, step, now)
            assert stored is not None  # START implies a record
            changed = transitions.begin_revoke(
                stored.record,
                source_event_id=envelope.meta.id,
                actor=event.actor,
                reason=event.reason,
                now=now,
                lease_seconds=self._lease,
            )
            return Decision(changed, Then(Action.RUN))

        done = await self._transact(event.request_id, decide)
        if done.outcome.action is Action.REFUSE_REVOKE:
            assert done.outcome.code is not None
            await self._refuse_revoke(envelope, _record(done.before), done.outcome.code)
            return
        await self._act(done)

    async def on_expiry_timer(self, fired: TimerFired) -> None:
        """Delete the attribute of a grant whose time is over, then announce it once."""

        def decide(stored: Stored | None) -> Decision[GrantRecord, Then]:
            now = self._now()
            step = transitions.step_for_expiry(
                _record(stored), generation=fired.generation, due_at=fired.due_at, now=now
            )
            if step is Step.IGNORE:
                return Decision(None, Then(Action.IGNORED))
            if step is not Step.START:
                return self._common(stored, step, now)
            assert stored is not None  # START implies a record
            changed = transitions.begin_expiry(stored.record, now=now, lease_seconds=self._lease)
            return Decision(changed, Then(Action.RUN))

        done = await self._transact(fired.request_id, decide)
        if done.outcome.action is Action.IGNORED:
            log.info(
                "grant.timer_ignored",
                generation=fired.generation,
                due_at=fired.due_at.isoformat(),
            )
            return
        await self._act(done)

    async def resume(self, request_id: str) -> None:
        """Finish whatever a record has unfinished (start-up sweep); GrantBusyError if owned."""

        def decide(stored: Stored | None) -> Decision[GrantRecord, Then]:
            now = self._now()
            step = Step.DONE
            if stored is not None and stored.record.op is not None:
                step = Step.RESUME if stored.record.lease_free(now) else Step.BUSY
            return self._common(stored, step, now)

        await self._act(await self._transact(request_id, decide))

    # --- shared steps -----------------------------------------------------------------

    def _common(
        self, stored: Stored | None, step: Step, now: datetime
    ) -> Decision[GrantRecord, Then]:
        """RESUME, BUSY and DONE are decided alike everywhere."""
        if stored is None:
            return Decision(None, Then(Action.NOTHING))
        if step is Step.BUSY:
            op = stored.record.op
            lease = op.lease_until if op is not None else None
            raise GrantBusyError(
                stored.record.request_id,
                f"{op.kind if op else 'an operation'} in flight (status {stored.record.status})",
                lease,
            )
        if step is Step.RESUME:
            changed = transitions.relet(stored.record, now=now, lease_seconds=self._lease)
            return Decision(changed, Then(Action.RESUME))
        return Decision(None, Then(Action.FLUSH))

    async def _transact(
        self, request_id: str, decide: Callable[[Stored | None], Decision[GrantRecord, Then]]
    ) -> Transacted[GrantRecord, Then]:
        try:
            return await transact(self._store, request_id, decide)
        except TooManyConflictsError:
            raise GrantBusyError(request_id, "the record kept changing under us") from None

    async def _act(self, done: Transacted[GrantRecord, Then]) -> None:
        """Carry out what was decided and stored: run a claimed operation, or flush."""
        action, current = done.outcome.action, done.latest
        if current is None or action is Action.NOTHING:
            return
        if action is Action.FLUSH:
            await self._outbox.flush(current)
            return
        if action is Action.RESUME:
            op = current.record.op
            log.warning("grant.operation_resumed", op=op.kind if op else None)
        await self._operations.run(current, resumed=action is Action.RESUME)

    # --- refusals ---------------------------------------------------------------------

    async def _refuse_unknown_extension(self, envelope: Envelope[ExtensionApproved]) -> None:
        """Announce that an extension of a grant never applied here cannot apply."""
        event = envelope.event
        # Nothing to store, so the event id derives from the extension.
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
