"""Handling one event: fold it into the record, plan the Slack work, do it, remember it.

Order of writes makes redelivery safe:
1. the folded view is stored first (folding again is harmless);
2. each message's ref is stored right after Slack accepted it, so a crash in the
   middle of a fan-out does not post the parts already done twice;
3. the event id is marked applied last, so a redelivery of an event whose work
   was cut short completes it, and a redelivery of a finished one does nothing.

A channel or person Slack refuses for good (archived, not a member, unknown) is
remembered, reported to the requester once, and skipped; it never blocks the rest
of the fan-out, and the event is still acked. Errors that may pass (rate limits
after the SDK's retries, Slack outages, a bad token) propagate, so the subscriber
naks with backoff and nothing is lost. A message that cannot be built at all (it
breaks Block Kit's rules: a builder bug) is treated like one Slack rejects: logged,
skipped, and the rest of the fan-out done; retrying the event could not help.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from services.notifier.domain.context import NotifyContext
from services.notifier.domain.deadletter_notice import deadletter_message
from services.notifier.domain.plan import (
    Destination,
    Operation,
    Post,
    ToChannel,
    ToPerson,
    Update,
    plan,
    plan_problem_notice,
)
from services.notifier.domain.record import MessageRef, NotifierRecord
from services.notifier.domain.request_view import RequestView, fold
from services.notifier.domain.slack_errors import Failure, meaning
from services.notifier.domain.slack_message import MessageFormationError
from services.notifier.ports import DeliveryError, ReadRecord, Records, Slack
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import DeliveryDeadLettered, Message
from shared.keyed_locks import KeyedLocks
from shared.profiles import ProfilesConfig

log = structlog.get_logger("accessbot.notifier")


class Notifier:
    """Turns ACCESS events into Slack messages; one instance per process."""

    def __init__(
        self,
        *,
        store: Records,
        slack: Slack,
        profiles: ProfilesConfig,
        admin_url: str,
    ) -> None:
        self._store = store
        self._slack = slack
        self._profiles = profiles
        self._admin_url = admin_url
        self._locks = KeyedLocks()

    def context(self, view: RequestView) -> NotifyContext:
        """Rendering context of a request: its profile's audit channels and description."""
        profile = self._profiles.get(view.profile_id) if view.profile_id else None
        if profile is None:
            return NotifyContext(admin_url=self._admin_url)
        return NotifyContext(
            admin_url=self._admin_url,
            channels=tuple(profile.notify_channels),
            profile_description=profile.description,
        )

    async def handle(self, envelope: Envelope[Message]) -> None:
        """Apply one event exactly once (at-least-once delivery, idempotent effects)."""
        event, event_id = envelope.event, envelope.meta.id
        async with self._locks.hold(event.request_id):
            current = await self._store.load(event.request_id)
            if current.record.has_applied(event_id):
                log.info("notifier.duplicate_event", event_type=type(event).__name__)
                return
            current = await self._store.change(current, lambda r: r.with_view(fold(r.view, event)))
            ctx = self.context(current.record.view)
            for op in plan(current.record, event, event_id, ctx):
                current = await self._run(current, op)
            await self._store.change(current, lambda r: r.with_applied(event_id))

    async def _run(self, current: ReadRecord, op: Operation) -> ReadRecord:
        if op.to.target in current.record.unreachable:
            return current  # refused earlier in this fan-out; already reported
        try:
            if isinstance(op, Update):
                return await self._update(current, op)
            return await self._post(current, op)
        except DeliveryError as exc:
            return await self._failed(current, op, exc)
        except MessageFormationError as exc:
            log.error(
                "slack.message_rejected",
                slot=op.slot,
                error="message_formation",
                detail=str(exc),
                **_where(op.to),
            )
            return current

    async def _post(self, current: ReadRecord, op: Post) -> ReadRecord:
        thread_ts = None
        if op.thread_slot is not None:
            parent = current.record.messages.get(op.thread_slot)
            if parent is None:
                log.warning("slack.thread_parent_missing", slot=op.slot, parent=op.thread_slot)
                return current
            thread_ts = parent.ts
        channel, ts = await self._slack.post(await self._channel(op.to), op.message, thread_ts)
        ref = MessageRef(channel=channel, ts=ts, digest=op.message.digest())
        log.info("slack.posted", slot=op.slot, channel=channel, ts=ts)
        return await self._store.change(current, lambda r: r.with_ref(op.slot, ref))

    async def _update(self, current: ReadRecord, op: Update) -> ReadRecord:
        try:
            await self._slack.update(op.ref.channel, op.ref.ts, op.message)
        except DeliveryError as exc:
            if exc.failure is not Failure.MESSAGE_GONE:
                raise
            log.warning("slack.message_gone", slot=op.slot, channel=op.ref.channel, ts=op.ref.ts)
            current = await self._store.change(current, lambda r: r.without_ref(op.slot))
            return await self._post(current, Post(op.slot, op.to, op.message))
        ref = op.ref.model_copy(update={"digest": op.message.digest()})
        log.info("slack.updated", slot=op.slot, channel=op.ref.channel, ts=op.ref.ts)
        return await self._store.change(current, lambda r: r.with_ref(op.slot, ref))

    async def _failed(self, current: ReadRecord, op: Operation, exc: DeliveryError) -> ReadRecord:
        fields = {"slot": op.slot, "method": exc.method, "error": exc.error, **_where(op.to)}
        if exc.failure is Failure.UNREACHABLE:
            log.warning("slack.unreachable", meaning=meaning(exc.error), **fields)
            target, error = op.to.target, exc.error
            current = await self._store.change(current, lambda r: r.with_unreachable(target, error))
            for notice in plan_problem_notice(current.record, op.to, exc.error):
                current = await self._run(current, notice)
            return current
        if exc.failure is Failure.REJECTED:
            log.error("slack.message_rejected", **fields)
            return current
        raise exc  # transient: the subscriber naks and the event comes back later

    async def _channel(self, to: Destination) -> str:
        if isinstance(to, ToChannel):
            return to.channel_id
        return await self._slack.dm_channel(to.person)


def _where(to: Destination) -> dict[str, str]:
    if isinstance(to, ToPerson):
        return {"person": to.person.email}
    return {"channel": to.channel_id}


# Dead-letter announcements: each posted once to the request's profile audit channels
# (the slot of each post is remembered in the record, so a redelivery posts nothing twice).


def _with_ref(slot: str, ref: MessageRef) -> Callable[[NotifierRecord], NotifierRecord]:
    return lambda record: record.with_ref(slot, ref)


def deadletter_slot(channel: str, event_id: str) -> str:
    """One announcement in one channel."""
    return f"deadletter:{channel}:{event_id}"


class DeadLetterNotices:
    """Handles `access.delivery.deadlettered`."""

    def __init__(self, *, store: Records, slack: Slack, profiles: ProfilesConfig) -> None:
        self._store = store
        self._slack = slack
        self._profiles = profiles

    async def handle(self, envelope: Envelope[DeliveryDeadLettered]) -> None:
        """Post the announcement to each audit channel that does not have it yet."""
        event, event_id = envelope.event, envelope.meta.id
        current = await self._store.load(event.request_id)
        profile_id = event.profile_id or current.record.view.profile_id
        profile = self._profiles.get(profile_id) if profile_id else None
        if profile is None or not profile.notify_channels:
            log.warning("deadletter.no_audit_channel", profile_id=profile_id)
            return
        message = deadletter_message(event)
        for channel in profile.notify_channels:
            slot = deadletter_slot(channel, event_id)
            if slot in current.record.messages:
                continue
            try:
                posted_channel, ts = await self._slack.post(channel, message, None)
            except DeliveryError as exc:
                if exc.failure is Failure.TRANSIENT:
                    raise
                log.error("slack.deadletter_notice_refused", channel=channel, error=exc.error)
                continue
            ref = MessageRef(channel=posted_channel, ts=ts, digest=message.digest())
            current = await self._store.change(current, _with_ref(slot, ref))
            log.info("slack.posted", slot=slot, channel=channel, ts=ts)
