"""Applying inputs to request records: read, decide (pure), CAS-write, then publish.

Every input is applied at most once per record (its id is kept in `applied`); a
lost compare-and-set re-reads and decides again, so concurrent replicas reach one
outcome. Events go through the record's outbox; refusals change nothing and carry
an id derived from the input's.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import structlog

from services.approvals.domain import budget, extensions, grant_tracking, machine
from services.approvals.domain.budget import BudgetClaim
from services.approvals.domain.outbox import mark_published, refusal_id, stage, unpublished
from services.approvals.domain.record import RequestRecord
from services.approvals.domain.step import Step
from services.approvals.ports import Ports, RequestStore, Stored
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import (
    CancelRequest,
    DecideRequest,
    ExtendGrant,
    GrantEvent,
    Message,
    SubmitRequest,
)
from shared.contracts.subjects import TimerPurpose
from shared.persistence.outbox import flush
from shared.persistence.transact import Decision, TooManyConflictsError, transact
from shared.persistence.versioned import ConflictError
from shared.profiles import ProfilesConfig
from shared.timers import TimerFired

E = TypeVar("E", bound=Message)
G = TypeVar("G", bound=GrantEvent)
Clock = Callable[[], datetime]
Decide = Callable[[RequestRecord | None, datetime], Step]

log = structlog.get_logger("accessbot.approvals")


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class Approvals:
    """The approvals service's handlers, one per input."""

    def __init__(self, profiles: ProfilesConfig, ports: Ports, *, clock: Clock = utc_now) -> None:
        self._profiles = profiles
        self._p = ports
        self._clock = clock

    @property
    def requests(self) -> RequestStore:
        """The request records (for the expiry sweep and the pending gauge)."""
        return self._p.store

    async def on_submitted(self, env: Envelope[SubmitRequest]) -> None:
        """Open the request (once per request id), or re-publish what opening it decided."""
        sub = env.event
        stored = await self._p.store.load(sub.request_id)
        if stored is None:
            now = self._clock()
            device = await self._p.devices.get(sub.device_id)
            claim = machine.budget_claim(sub, self._profiles, device, now)
            over = not await self._claim_budget(claim)
            step = machine.open_request(sub, self._profiles, device, now, over_budget=over)
            if step.record is None:
                raise RuntimeError("open_request returned no record")
            record = stage(step.record, env.meta.id, step.events, now)
            try:
                stored = await self._p.store.create(record)
                log.info("request.opened", status=record.status.value, profile=sub.profile_id)
            except ConflictError:
                stored = await self._p.store.load(sub.request_id)
                if stored is None:
                    raise RuntimeError("request record vanished after a create conflict") from None
                log.info("request.duplicate_submission", status=stored.record.status.value)
        else:
            log.info("request.duplicate_submission", status=stored.record.status.value)
        await self._settle(stored, reschedule=True)

    async def _claim_budget(self, claim: BudgetClaim | None) -> bool:
        """Whether the day's auto-approval budget has (or already gave) this request a slot;
        True when no budget applies."""
        if claim is None:
            return True
        done = await transact(
            self._p.budgets, claim.key, lambda stored: budget.claim(claim, stored)
        )
        log.info("auto_approval.budget", key=claim.key, granted=done.outcome)
        return done.outcome

    async def on_decision(self, env: Envelope[DecideRequest]) -> None:
        """An Approve or Deny click."""
        cmd = env.event
        await self._apply(env, lambda record, now: machine.decide(record, cmd, self._profiles, now))

    async def on_cancel(self, env: Envelope[CancelRequest]) -> None:
        """The requester withdraws a pending request."""
        cmd = env.event
        await self._apply(env, lambda record, now: machine.cancel(record, cmd, now))

    async def on_extend(self, env: Envelope[ExtendGrant]) -> None:
        """The requester asks for more time on an active grant."""
        cmd = env.event
        profiles = self._profiles
        await self._apply(env, lambda record, now: extensions.request(record, cmd, profiles, now))

    async def on_grant(self, env: Envelope[G]) -> None:
        """Grants reported an outcome: track it in the record."""
        event = env.event
        await self._apply(env, lambda record, _: grant_tracking.track(record, event))

    async def on_timer(self, fired: TimerFired) -> None:
        """The request timer fired: a reminder, the escalation or the expiry (late,
        repeated or stale firings change nothing)."""
        if fired.purpose is not TimerPurpose.REQUEST_EXPIRY:
            log.error("timer.wrong_purpose", purpose=fired.purpose.value)
            return
        cause = f"timer:{fired.generation}:{fired.due_at.isoformat()}"
        await self._transact(
            fired.request_id,
            cause,
            lambda record, now: machine.on_timer(record, fired.due_at, now),
            refusal_event_id=None,
        )

    async def _apply(self, env: Envelope[E], decide: Decide) -> None:
        await self._transact(
            env.event.request_id,
            env.meta.id,
            decide,
            refusal_event_id=refusal_id(env.meta.time, env.meta.id),
        )

    async def _transact(
        self, request_id: str, cause: str, decide: Decide, *, refusal_event_id: str | None
    ) -> None:
        """Read, decide, CAS-write and publish; on a lost race, read and decide again."""

        def judge(stored: Stored | None) -> Decision[RequestRecord, Step | None]:
            if stored is not None and cause in stored.record.applied:
                return Decision(None, None)  # None: applied before
            now = self._clock()
            step = decide(stored.record if stored is not None else None, now)
            if step.record is None:
                return Decision(None, step)
            if stored is None:
                raise RuntimeError("only a submission may create a request record")
            return Decision(stage(step.record, cause, step.events, now), step)

        done = await transact(self._p.store, request_id, judge)
        step, before, written = done.outcome, done.before, done.written
        if step is None:
            assert before is not None  # applied before: it was read
            log.info("input.already_applied", cause=cause)
            await self._settle(before, reschedule=True)
            return
        if written is None:
            if step.note:
                log.info("input.no_change", note=step.note)
            await self._publish_refusal(step, refusal_event_id)
            return
        assert before is not None  # only an update reaches here
        if written.record.status is not before.record.status:
            log.info(
                "request.transition",
                status_from=before.record.status.value,
                status_to=written.record.status.value,
            )
        reschedule = written.record.next_timer() != before.record.next_timer()
        await self._settle(written, reschedule=reschedule)
        await self._publish_refusal(step, refusal_event_id)

    async def _publish_refusal(self, step: Step, event_id: str | None) -> None:
        if step.refusal is None:
            return
        if event_id is None:
            raise RuntimeError("a refusal needs the id of the input it answers")
        log.info("decision.refused", code=step.refusal.code.value, action=step.refusal.action)
        await self._p.publisher.publish(step.refusal, event_id=event_id)

    async def _settle(self, stored: Stored, *, reschedule: bool) -> None:
        """Make sure the timer and the outbox of a stored record have taken effect."""
        record = stored.record
        due = record.next_timer()
        if reschedule and due is not None:
            await self._p.schedule_expiry(record.request_id, due, generation=len(record.extensions))
        entries = unpublished(record)
        if not entries:
            return
        sent = await flush(entries, self._p.publisher)
        try:
            # Recorded so that a much later redelivery does not repeat them.
            await transact(
                self._p.store,
                record.request_id,
                lambda latest: Decision(
                    mark_published(latest.record, sent) if latest else None, None
                ),
                current=stored,
            )
        except TooManyConflictsError:
            # Harmless: a redelivery within JetStream's duplicate window re-publishes nothing new.
            log.warning("outbox.mark_failed", event_ids=sorted(sent))
