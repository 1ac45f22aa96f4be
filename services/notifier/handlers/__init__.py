"""Handling one event: fold it into the record, plan the Slack work, do it, remember it.

Order of writes makes redelivery safe:
1. each posted message's ref is stored before the next Slack call (or with the last
   write), so a crash in the middle of a fan-out does not post the parts already done
   twice; the write that stores it carries whatever else changed since the last one;
2. the event id is marked applied last, in the handler's last write (with the ref of
   its last post, when it ended with one), so a redelivery of an event whose work was
   cut short completes it, and a redelivery of a finished one does nothing.
The folded view, the digests of updated messages and refused targets are not written on
their own: each rides along with the next write. Lost in a crash, they are worked out
again by the redelivery (folding twice is harmless; an update shows the same again);
when the handler fails (a Slack error that may pass), they are written before the error
propagates, so the redelivery redoes only what is missing.

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
from services.notifier.handlers.home import HomePublisher
from services.notifier.ports import DeliveryError, ReadRecord, Records, Slack
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import DeliveryDeadLettered, Message
from shared.keyed_locks import KeyedLocks
from shared.profiles import ProfilesConfig

log = structlog.get_logger("accessbot.notifier")


Change = Callable[[NotifierRecord], NotifierRecord]


class _Draft:
    """The record as one handler run has changed it, and the changes not stored yet.

    `note` changes it in memory; `save` stores every change noted since the last write
    in one compare-and-set (re-applied to a newer record on a lost race, like every
    change here). A posted message must be stored before the next Slack call: `posted`
    notes its ref and `settle` then writes it.
    """

    def __init__(self, store: Records, read: ReadRecord) -> None:
        self._store = store
        self._stored = read
        self.record = read.record
        self._pending: list[Change] = []
        self._posted = False

    def note(self, change: Change) -> None:
        """Change the record in memory; stored with the next write."""
        self.record = change(self.record)
        self._pending.append(change)

    def posted(self, change: Change) -> None:
        """Note a posted message's ref: stored before the next Slack call."""
        self.note(change)
        self._posted = True

    async def settle(self) -> None:
        """Store a posted message's ref (and what rides along) before Slack is called again."""
        if self._posted:
            await self.save()

    async def save(self) -> None:
        """Store every change noted since the last write, in one write."""
        if not self._pending:
            return
        changes, base, result = tuple(self._pending), self._stored.record, self.record

        def apply(record: NotifierRecord) -> NotifierRecord:
            if record is base:  # no race: the changes are applied already
                return result
            for change in changes:
                record = change(record)
            return record

        self._stored = await self._store.change(self._stored, apply)
        self.record = self._stored.record
        self._pending.clear()
        self._posted = False


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
        self._home: HomePublisher | None = None

    def with_home(self, home: HomePublisher) -> None:
        """Keep the Home indexes (and, later, the Homes) of the people each event touches."""
        self._home = home

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
            draft = _Draft(self._store, current)
            draft.note(lambda r: r.with_view(fold(r.view, event)))
            ctx = self.context(draft.record.view)
            try:
                for op in plan(draft.record, event, event_id, ctx):
                    await self._run(draft, op)
            except Exception:
                await _save_before_failing(draft)
                raise
            if self._home is not None:  # before the event counts as applied: redone on failure
                indexed = await self._home.note(draft.record.view, draft.record.home_indexed)
                draft.note(lambda r: r.with_home_indexed(indexed))
            draft.note(lambda r: r.with_applied(event_id))
            await draft.save()

    async def _run(self, draft: _Draft, op: Operation) -> None:
        await draft.settle()
        if op.to.target in draft.record.unreachable:
            return  # refused earlier in this fan-out; already reported
        try:
            if isinstance(op, Update):
                await self._update(draft, op)
            else:
                await self._post(draft, op)
        except DeliveryError as exc:
            await self._failed(draft, op, exc)
        except MessageFormationError as exc:
            log.error(
                "slack.message_rejected",
                slot=op.slot,
                error="message_formation",
                detail=str(exc),
                **_where(op.to),
            )

    async def _post(self, draft: _Draft, op: Post) -> None:
        thread_ts = None
        if op.thread_slot is not None:
            parent = draft.record.messages.get(op.thread_slot)
            if parent is None:
                log.warning("slack.thread_parent_missing", slot=op.slot, parent=op.thread_slot)
                return
            thread_ts = parent.ts
        channel, ts = await self._slack.post(await self._channel(op.to), op.message, thread_ts)
        ref = MessageRef(channel=channel, ts=ts, digest=op.message.digest())
        log.info("slack.posted", slot=op.slot, channel=channel, ts=ts)
        draft.posted(_with_ref(op.slot, ref))

    async def _update(self, draft: _Draft, op: Update) -> None:
        try:
            await self._slack.update(op.ref.channel, op.ref.ts, op.message)
        except DeliveryError as exc:
            if exc.failure is not Failure.MESSAGE_GONE:
                raise
            log.warning("slack.message_gone", slot=op.slot, channel=op.ref.channel, ts=op.ref.ts)
            slot = op.slot
            draft.note(lambda r: r.without_ref(slot))
            await self._post(draft, Post(op.slot, op.to, op.message))
            return
        ref = op.ref.model_copy(update={"digest": op.message.digest()})
        log.info("slack.updated", slot=op.slot, channel=op.ref.channel, ts=op.ref.ts)
        draft.note(_with_ref(op.slot, ref))

    async def _failed(self, draft: _Draft, op: Operation, exc: DeliveryError) -> None:
        fields = {"slot": op.slot, "method": exc.method, "error": exc.error, **_where(op.to)}
        if exc.failure is Failure.UNREACHABLE:
            log.warning("slack.unreachable", meaning=meaning(exc.error), **fields)
            target, error = op.to.target, exc.error
            draft.note(lambda r: r.with_unreachable(target, error))
            for notice in plan_problem_notice(draft.record, op.to, exc.error):
                await self._run(draft, notice)
            return
        if exc.failure is Failure.REJECTED:
            log.error("slack.message_rejected", **fields)
            return
        raise exc  # transient: the subscriber naks and the event comes back later

    async def _channel(self, to: Destination) -> str:
        if isinstance(to, ToChannel):
            return to.channel_id
        return await self._slack.dm_channel(to.person)


async def _save_before_failing(draft: _Draft) -> None:
    """What was done before a failure stays done (the redelivery redoes only the rest);
    the failure itself is what the caller reports, so a failed write here is only logged."""
    try:
        await draft.save()
    except Exception as exc:  # noqa: BLE001 - the handler's own error propagates instead
        log.warning("notifier.save_before_failing_failed", error=repr(exc))


def _where(to: Destination) -> dict[str, str]:
    if isinstance(to, ToPerson):
        return {"person": to.person.email}
    return {"channel": to.channel_id}


# Dead-letter announcements: each posted once to the request's profile audit channels
# (the slot of each post is remembered in the record, so a redelivery posts nothing twice).


def _with_ref(slot: str, ref: MessageRef) -> Change:
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
