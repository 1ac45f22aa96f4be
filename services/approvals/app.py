"""Applying inputs to request records: read, decide (pure), CAS-write, then publish.

Every input is applied at most once per record (its id is kept in `applied`); a
lost compare-and-set re-reads and decides again, so concurrent replicas reach one
outcome. Events go through the record's outbox; refusals change nothing and carry
an id derived from the input's.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar

import structlog

from services.approvals import extensions, grant_tracking, machine
from services.approvals.devices import DeviceDirectory
from services.approvals.outbox import mark_published, rebuild, refusal_id, stage, unpublished
from services.approvals.record import RequestRecord
from services.approvals.step import Step
from services.approvals.store import RequestStore, Stored
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
from shared.profiles import ProfilesConfig
from shared.publishing import EventPublisher
from shared.timers import TimerFired

MAX_ATTEMPTS = 10

E = TypeVar("E", bound=Message)
G = TypeVar("G", bound=GrantEvent)
Clock = Callable[[], datetime]
Decide = Callable[[RequestRecord | None, datetime], Step]

log = structlog.get_logger("accessbot.approvals")


def utc_now() -> datetime:
    """The wall clock, in UTC."""
    return datetime.now(UTC)


class ExpiryScheduler(Protocol):
    """Schedules (or replaces) the request-expiry timer of one request."""

    async def __call__(self, request_id: str, due_at: datetime, *, generation: int) -> None:
        """Fire `TimerFired` for `request_id` at `due_at`."""


class ConcurrentUpdateError(RuntimeError):
    """Too many lost compare-and-sets in a row; the input is retried later."""


@dataclass(frozen=True, slots=True)
class Ports:
    """What the approvals logic needs from NATS, available once connected."""

    store: RequestStore
    devices: DeviceDirectory
    publisher: EventPublisher
    schedule_expiry: ExpiryScheduler


class Approvals:
    """The approvals service's handlers, one per input."""

    def __init__(self, profiles: ProfilesConfig, *, clock: Clock = utc_now) -> None:
        self._profiles = profiles
        self._clock = clock
        self._ports: Ports | None = None

    def bind(self, ports: Ports) -> None:
        """Attach the NATS-backed ports (called once connected, before consuming)."""
        self._ports = ports

    @property
    def ready(self) -> bool:
        """True once bound to NATS."""
        return self._ports is not None

    @property
    def _p(self) -> Ports:
        if self._ports is None:
            raise RuntimeError("approvals used before bind(): NATS is not connected yet")
        return self._ports

    async def on_submitted(self, env: Envelope[SubmitRequest]) -> None:
        """Open the request (once per request id), or re-publish what opening it decided."""
        sub = env.event
        stored = await self._p.store.load(sub.request_id)
        if stored is None:
            now = self._clock()
            device = await self._p.devices.get(sub.device_id)
            step = machine.open_request(sub, self._profiles, device, now)
            if step.record is None:
                raise RuntimeError("open_request returned no record")
            record = stage(step.record, env.meta.id, step.events, now)
            stored = await self._p.store.create(record)
            if stored is not None:
                log.info("request.opened", status=record.status.value, profile=sub.profile_id)
        if stored is None:
            stored = await self._p.store.load(sub.request_id)
            if stored is None:
                raise ConcurrentUpdateError("request record vanished after a create conflict")
            log.info("request.duplicate_submission", status=stored.record.status.value)
        await self._settle(stored, reschedule=True)

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
        """The request-expiry timer fired (late, repeated or stale firings change nothing)."""
        if fired.purpose is not TimerPurpose.REQUEST_EXPIRY:
            log.error("timer.wrong_purpose", purpose=fired.purpose.value)
            return
        cause = f"timer:{fired.generation}:{fired.due_at.isoformat()}"
        await self._transact(
            fired.request_id,
            cause,
            lambda record, now: machine.expire(record, fired.due_at, now),
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
        for attempt in range(1, MAX_ATTEMPTS + 1):
            stored = await self._p.store.load(request_id)
            before = stored.record if stored is not None else None
            if stored is not None and cause in stored.record.applied:
                log.info("input.already_applied", cause=cause)
                await self._settle(stored, reschedule=True)
                return
            now = self._clock()
            step = decide(before, now)
            if step.record is None:
                if step.note:
                    log.info("input.no_change", note=step.note)
                await self._publish_refusal(step, refusal_event_id)
                return
            if stored is None:
                raise RuntimeError("only a submission may create a request record")
            after = stage(step.record, cause, step.events, now)
            written = await self._p.store.update(after, stored.revision)
            if written is None:
                log.info("request.cas_conflict", attempt=attempt)
                continue
            if after.status is not stored.record.status:
                log.info(
                    "request.transition",
                    status_from=stored.record.status.value,
                    status_to=after.status.value,
                )
            await self._settle(written, reschedule=after.next_timer() != _timer_of(before))
            await self._publish_refusal(step, refusal_event_id)
            return
        raise ConcurrentUpdateError(f"{MAX_ATTEMPTS} compare-and-set conflicts on {request_id}")

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
        for entry in entries:
            await self._p.publisher.publish(
                rebuild(entry), event_id=entry.event_id, time=entry.time
            )
        await self._mark_published(stored, {e.event_id for e in entries})

    async def _mark_published(self, stored: Stored | None, event_ids: set[str]) -> None:
        """Record that events went out, so a much later redelivery does not repeat them."""
        for _ in range(MAX_ATTEMPTS):
            if stored is None:
                return
            waiting = {e.event_id for e in unpublished(stored.record)} & event_ids
            if not waiting:
                return
            marked = mark_published(stored.record, waiting)
            if await self._p.store.update(marked, stored.revision) is not None:
                return
            stored = await self._p.store.load(stored.record.request_id)
        # Harmless: a redelivery within JetStream's duplicate window re-publishes nothing new.
        log.warning("outbox.mark_failed", event_ids=sorted(event_ids))


def _timer_of(record: RequestRecord | None) -> datetime | None:
    return record.next_timer() if record is not None else None
