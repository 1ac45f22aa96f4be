"""Durable JetStream pull subscribers that only translate and delegate.

`subscribe_events` registers a FastStream subscriber for one consumer of
`shared.consumers`: it decodes the CloudEvent (a message that does not validate
is logged and terminated, never retried forever), binds `request_id`, calls the
domain handler, acks on success and naks with a capped backoff on failure (so a
transient outage loses nothing), and logs one canonical line per event.

Deliveries are bounded (`ConsumerSpec.max_deliver`): when the last one fails too, the
message is recorded as dead-lettered (`shared.deadlettering`) and terminated, so a
poison message stops coming back while the consumer goes on with the next ones. If the
process dies on that last attempt, JetStream's max-deliveries advisory (kept in the
DEADLETTER stream) is recorded instead by the service's advisory subscriber. The admin
re-delivers a dead letter to its consumer alone through `deadletter.replay.<consumer>`,
which `subscribe_events` / `subscribe_timers` also consume with the same handler.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
import weakref
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from faststream import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsMessage, PullSub
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy
from pydantic import BaseModel, ValidationError

from shared import tracecontext
from shared.consumers import ConsumerSpec, advisory_consumer, deadletter_sources, replay_consumer
from shared.contracts.cloudevents import Envelope, decode_as
from shared.contracts.events import Message
from shared.contracts.subjects import TimerPurpose, timer_due_subject, timer_schedule_subject
from shared.deadletter import (
    DeadLetterRecord,
    OriginalMessage,
    ReplayOrigin,
    describe_error,
    identify,
)
from shared.deadlettering import fetch_original, record_dead_letter
from shared.keyed_locks import KeyedLocks
from shared.logging import bound_event
from shared.metrics import events as metrics
from shared.pull_timeouts import tolerate_idle_fetch
from shared.retry import RetryLaterError

E = TypeVar("E", bound=Message)
M = TypeVar("M", bound=BaseModel)

ACK_WAIT_SECONDS = 30.0
# A handler still working (waiting its turn behind the same request, or waiting out a
# Tailscale or Slack retry) tells JetStream so every third of the ack wait, so the message
# is not redelivered to another worker meanwhile; for at most this long, after which the
# ack wait runs out as usual and the delivery counts against max_deliver.
MAX_IN_PROGRESS_SECONDS = 600.0
SCHEDULER_HEADER = "Nats-Scheduler"  # set by the server on a fired schedule
MAX_BACKOFF_SECONDS = 60.0

log = structlog.get_logger("accessbot.subscriber")


def retry_delay(num_delivered: int) -> float:
    """Capped exponential backoff for the next redelivery of a failed message."""
    return float(min(MAX_BACKOFF_SECONDS, 0.5 * 2 ** max(0, num_delivered - 1)))


def _pull_inbox_prefix(broker: NatsBroker) -> bytes:
    """The per-user inbox prefix the broker connects with (the only inbox the permission
    matrix lets a service subscribe to); FastStream's pull subscribers default to `_INBOX.`.
    """
    # make_broker sets it; FastStream keeps connection options only in this attribute.
    prefix = broker._connection_kwargs.get("inbox_prefix") or "_INBOX"
    text = prefix.decode() if isinstance(prefix, bytes) else str(prefix)
    return f"{text.rstrip('.')}.".encode()


def _subscriber_kwargs(
    spec: ConsumerSpec, *, batch: int, inbox_prefix: bytes = b"_INBOX."
) -> dict[str, Any]:
    return {
        "stream": JStream(name=spec.stream, declare=False),
        "inbox_prefix": inbox_prefix,
        "durable": spec.durable,
        "pull_sub": PullSub(batch_size=batch, timeout=5.0),
        "ack_policy": AckPolicy.MANUAL,
        "config": consumer_config(spec),
        "title": spec.durable,
    }


def consumer_config(spec: ConsumerSpec) -> ConsumerConfig:
    """The JetStream config a subscriber creates `spec` with."""
    return ConsumerConfig(
        durable_name=spec.durable,
        filter_subject=spec.filter_subject,
        ack_policy=JsAckPolicy.EXPLICIT,
        deliver_policy=DeliverPolicy.ALL,
        ack_wait=ACK_WAIT_SECONDS,
        max_ack_pending=1000,
        max_deliver=spec.max_deliver,
    )


@dataclass(frozen=True, slots=True)
class _Letter:
    """What a dead letter of this delivery would be: whose, which message, which key."""

    owner: ConsumerSpec  # the consumer it is dead-lettered for (never a replay consumer)
    stream: str
    stream_sequence: int
    message: OriginalMessage | None  # None: it left the stream before it was recorded
    generation: int = 0
    on_top_of: int = 0  # the DEADLETTER sequence its record subject must end at

    def record(self, *, deliveries: int, error: str, source: str) -> DeadLetterRecord:
        event_id = request_id = profile_id = None
        subject = self.owner.filter_subject
        if self.message is not None:
            subject = self.message.subject
            event_id, request_id, profile_id = identify(
                subject, self.message.headers, self.message.body
            )
        return DeadLetterRecord.model_validate(
            {
                "service": self.owner.service,
                "consumer": self.owner.durable,
                "stream": self.stream,
                "stream_sequence": self.stream_sequence,
                "subject": subject,
                "event_id": event_id,
                "request_id": request_id,
                "profile_id": profile_id,
                "deliveries": deliveries,
                "last_error": error,
                "source": source,
                "recorded_at": datetime.now(UTC),
                "generation": self.generation,
                "message": self.message,
            }
        )


def _direct_letter(owner: ConsumerSpec, msg: NatsMessage) -> _Letter:
    raw = msg.raw_message
    message = OriginalMessage.of(raw.subject, raw.headers, raw.data)
    return _Letter(owner, owner.stream, raw.metadata.sequence.stream, message)


def _replayed_letter(owner: ConsumerSpec, origin: ReplayOrigin, body: bytes) -> _Letter:
    return _Letter(
        owner,
        origin.stream,
        origin.stream_sequence,
        OriginalMessage.of(origin.subject, origin.headers, body),
        generation=origin.generation + 1,
        on_top_of=origin.mark_sequence,
    )


async def _dead_letter(
    broker: NatsBroker, msg: NatsMessage, letter: _Letter, delivered: int, error: str
) -> None:
    """Record the message as dead-lettered, then terminate it (it will not come back).

    If recording fails, nak it: JetStream then emits its max-deliveries advisory and the
    advisory subscriber records it, so the message is never dropped unrecorded.
    """
    record = letter.record(deliveries=delivered, error=error, source="handler")
    try:
        stored = await record_dead_letter(
            broker.connection.jetstream(), record, on_top_of=letter.on_top_of
        )
    except Exception as exc:  # noqa: BLE001 - whatever went wrong, the advisory path records it
        metrics.finished(letter.owner, metrics.Outcome.FAILED)
        log.warning(
            "deadletter.record_failed",
            consumer=letter.owner.durable,
            stream_seq=letter.stream_sequence,
            error=describe_error(exc),
        )
        await msg.nack(delay=retry_delay(delivered))
        return
    metrics.finished(letter.owner, metrics.Outcome.DEAD_LETTERED)
    if stored:  # not when the advisory path recorded it first
        metrics.dead_lettered(letter.owner.durable, "handler")
    await msg.reject()


async def _keep_in_progress(msg: NatsMessage) -> None:
    """Extend the ack wait while the handler runs (bounded by MAX_IN_PROGRESS_SECONDS)."""
    interval = ACK_WAIT_SECONDS / 3
    for _ in range(int(MAX_IN_PROGRESS_SECONDS / interval)):
        await asyncio.sleep(interval)
        try:
            await msg.in_progress()
        except Exception as exc:  # noqa: BLE001 - a lost heartbeat only risks a redelivery
            log.warning("event.in_progress_failed", error=describe_error(exc))
            return


async def _run_in_progress(msg: NatsMessage, run: Callable[[], Awaitable[None]]) -> None:
    heartbeat = asyncio.create_task(_keep_in_progress(msg))
    try:
        await run()
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat


async def _finish(
    broker: NatsBroker,
    msg: NatsMessage,
    run: Callable[[], Awaitable[None]],
    fields: dict[str, Any],
    *,
    letter: _Letter,
    max_deliver: int,
) -> None:
    started = time.perf_counter()
    delivered = msg.raw_message.metadata.num_delivered
    metrics.received(letter.owner, delivered)
    last = delivered >= max_deliver
    try:
        await _run_in_progress(msg, run)
    except RetryLaterError as later:
        if not last:
            metrics.finished(letter.owner, metrics.Outcome.DEFERRED, time.perf_counter() - started)
            log.info("event.deferred", **fields, reason=str(later), retry_in_s=later.delay)
            await msg.nack(delay=later.delay)
            return
        error = describe_error(later)
    except Exception as exc:  # noqa: BLE001 - any failure is retried, then dead-lettered
        error = describe_error(exc)
        if not last:
            metrics.finished(letter.owner, metrics.Outcome.FAILED, time.perf_counter() - started)
            delay = retry_delay(delivered)
            # One traceback per message (its first failure); retries say one line each.
            failed = log.error if delivered == 1 else log.warning
            failed(
                "event.failed",
                **fields,
                error=error,
                delivered=delivered,
                max_deliver=max_deliver,
                retry_in_s=delay,
                exc_info=delivered == 1,
            )
            await msg.nack(delay=delay)
            return
    else:
        await msg.ack()
        seconds = time.perf_counter() - started
        metrics.finished(letter.owner, metrics.Outcome.HANDLED, seconds)
        log.info("event.handled", **fields, duration_ms=round(1000 * seconds, 2))
        return
    await _dead_letter(broker, msg, letter, delivered, error)


# A decoder turns (subject, headers, body) into what to run and the ids to log with, or
# raises ValueError with the reason the message can never be handled.
Prepared = tuple[Callable[[], Awaitable[None]], str, str | None]
Decoder = Callable[[str, Mapping[str, str] | None, bytes], Prepared]


def _consume(
    broker: NatsBroker, spec: ConsumerSpec, decoder: Decoder, kind: str, type_name: str
) -> tuple[Callable[[NatsMessage], Awaitable[None]], Callable[[NatsMessage], Awaitable[None]]]:
    """The handlers of `spec` and of its replay consumer (same decoder, same handler)."""

    rejected = f"{kind}.rejected"

    async def handle(msg: NatsMessage, subject: str, headers: Any, letter: _Letter) -> None:
        raw = msg.raw_message
        try:
            run, request_id, event_id = decoder(subject, headers, raw.data)
        except ValueError as exc:
            log.error(
                rejected,
                consumer=spec.durable,
                subject=subject,
                ce_id=(headers or {}).get("ce-id"),
                reason=str(exc),
            )
            metrics.finished(spec, metrics.Outcome.REJECTED)
            await msg.reject()
            return
        fields = {"consumer": spec.durable, "subject": subject, "type": type_name}
        incoming = tracecontext.from_headers(headers)
        with (
            tracecontext.handling(incoming, request_id, spec.filter_subject) as span,
            bound_event(request_id, event_id, trace_id=span.trace_id),
        ):
            await _finish(broker, msg, run, fields, letter=letter, max_deliver=spec.max_deliver)

    async def consume(msg: NatsMessage) -> None:
        raw = msg.raw_message
        await handle(msg, raw.subject, raw.headers, _direct_letter(spec, msg))

    async def consume_replay(msg: NatsMessage) -> None:
        raw = msg.raw_message
        try:
            origin = ReplayOrigin.of(raw.headers)
        except ValueError as exc:
            log.error(rejected, consumer=spec.durable, subject=raw.subject, reason=str(exc))
            metrics.finished(spec, metrics.Outcome.REJECTED)
            await msg.reject()
            return
        log.info("event.replayed", consumer=spec.durable, subject=origin.subject)
        await handle(msg, origin.subject, origin.headers, _replayed_letter(spec, origin, raw.data))

    return consume, consume_replay


async def _the_message(msg: NatsMessage) -> NatsMessage:
    """FastStream's decoder for our subscribers: the message itself. Handlers validate the
    body as their CloudEvent or timer (`shared.cloudevents`), so FastStream's own JSON decode
    of every body would be work thrown away."""
    return msg


def _subscribe(
    broker: NatsBroker,
    subject: str,
    kwargs: dict[str, Any],
    handler: Callable[..., Awaitable[None]],
) -> None:
    subscriber = broker.subscriber(subject, decoder=_the_message, **kwargs)
    tolerate_idle_fetch(subscriber)  # see shared.pull_timeouts
    subscriber(handler)


def _register(
    broker: NatsBroker,
    spec: ConsumerSpec,
    decoder: Decoder,
    *,
    kind: str,
    type_name: str,
    batch: int,
    max_workers: int,
) -> None:
    consume, consume_replay = _consume(broker, spec, decoder, kind, type_name)
    prefix = _pull_inbox_prefix(broker)
    kwargs = _subscriber_kwargs(spec, batch=batch, inbox_prefix=prefix)
    if max_workers > 1:
        kwargs["max_workers"] = max_workers
    _subscribe(broker, spec.filter_subject, kwargs, consume)
    # Replays are rare and handled one at a time. A consumer made after replays were sent
    # takes them all (nothing lost); handlers are idempotent, so one handled before is a no-op.
    replay = replay_consumer(spec)
    replay_kwargs = _subscriber_kwargs(replay, batch=1, inbox_prefix=prefix)
    _subscribe(broker, replay.filter_subject, replay_kwargs, consume_replay)
    _subscribe_advisories_once(broker, spec.service)


def subscribe_events(
    broker: NatsBroker,
    spec: ConsumerSpec,
    model: type[E],
    handler: Callable[[Envelope[E]], Awaitable[None]],
    *,
    batch: int = 16,
    max_workers: int = 1,
    per_request: KeyedLocks | None = None,
) -> None:
    """Consume `spec` durably, decode each message as `model`, and delegate to `handler`.

    `max_workers` > 1 handles that many messages at once (the handler must then be safe
    to run concurrently), so one slow message (a Slack rate limit or a Tailscale retry
    being waited out) does not hold up the others. `per_request` (shared by a service's
    subscribers) runs the messages of one request one at a time, in the order received.
    """

    def decoder(subject: str, headers: Mapping[str, str] | None, body: bytes) -> Prepared:
        envelope = decode_as(model, subject, headers, body)
        request_id = envelope.event.request_id
        return _serialised(per_request, request_id, handler, envelope), request_id, envelope.meta.id

    _register(
        broker,
        spec,
        decoder,
        kind="event",
        type_name=model.__name__,
        batch=batch,
        max_workers=max_workers,
    )


def _serialised(
    locks: KeyedLocks | None, key: str, handler: Callable[[Any], Awaitable[None]], arg: object
) -> Callable[[], Awaitable[None]]:
    """`handler(arg)`, run while holding `key` in `locks` when given."""

    async def run() -> None:
        if locks is None:
            await handler(arg)
            return
        async with locks.hold(key):
            await handler(arg)

    return run


def _timer_provenance_problem(
    due_subject: str, headers: dict[str, str] | None, request_id: str
) -> str | None:
    """Why a due timer is not its owner's own schedule firing, or None when it is.

    The server fires a schedule to any `Nats-Schedule-Target` within TIMERS, so approvals
    (which may publish `timers.schedule.request.*`) could aim one at `timers.due.grant.*`.
    The server stamps the schedule's subject into `Nats-Scheduler` and refuses a
    client-set one, so that header proves which purpose's publisher scheduled it.
    """
    purpose = due_subject.split(".")[2] if due_subject.count(".") == 3 else ""
    if purpose not in {p.value for p in TimerPurpose}:
        return f"not a due-timer subject: {due_subject!r}"
    expected = timer_schedule_subject(TimerPurpose(purpose), request_id)
    scheduler = (headers or {}).get(SCHEDULER_HEADER)
    if timer_due_subject(TimerPurpose(purpose), request_id) != due_subject:
        return f"body request_id {request_id!r} differs from the subject's"
    if scheduler != expected:
        return f"{SCHEDULER_HEADER} is {scheduler!r}, expected {expected!r}"
    return None


def subscribe_timers(
    broker: NatsBroker,
    spec: ConsumerSpec,
    model: type[M],
    handler: Callable[[M], Awaitable[None]],
    *,
    max_workers: int = 1,
    per_request: KeyedLocks | None = None,
) -> None:
    """Consume due timers of `spec`; the body is validated as `model` (e.g. TimerFired).

    `max_workers` and `per_request` work as for `subscribe_events`.
    """

    def decoder(subject: str, headers: Mapping[str, str] | None, body: bytes) -> Prepared:
        try:
            fired = model.model_validate_json(body)
        except ValidationError as exc:
            raise ValueError(str(exc)) from None
        request_id = str(getattr(fired, "request_id", subject.rsplit(".", 1)[-1]))
        problem = _timer_provenance_problem(subject, dict(headers or {}), request_id)
        if problem is not None:
            raise ValueError(problem)
        return _serialised(per_request, request_id, handler, fired), request_id, None

    _register(
        broker,
        spec,
        decoder,
        kind="timer",
        type_name=model.__name__,
        batch=16,
        max_workers=max_workers,
    )


# --- JetStream's max-deliveries advisories ---------------------------------------------

ADVISORY_ERROR = (
    "the last delivery ended without an answer from the handler "
    "(the process stopped, it ran past the ack wait, or it could not record the failure)"
)


class MaxDeliveriesAdvisory(BaseModel):
    """`io.nats.jetstream.advisory.v1.max_deliver` (the fields used here)."""

    stream: str
    consumer: str
    stream_seq: int
    deliveries: int


_ADVISORIES: weakref.WeakKeyDictionary[NatsBroker, set[str]] = weakref.WeakKeyDictionary()


def _subscribe_advisories_once(broker: NatsBroker, service: str) -> None:
    registered = _ADVISORIES.setdefault(broker, set())
    if service not in registered:
        registered.add(service)
        subscribe_advisories(broker, service)


def subscribe_advisories(broker: NatsBroker, service: str) -> None:
    """Record the dead letters JetStream reports for `service`'s consumers (and replays)."""
    spec = advisory_consumer(service)
    sources = {s.durable: s for s in deadletter_sources(service)}
    owners = {s.durable: s for s in sources.values() if not s.durable.endswith("_replay")}

    async def consume(msg: NatsMessage) -> None:
        raw = msg.raw_message
        try:
            advisory = MaxDeliveriesAdvisory.model_validate_json(raw.data)
        except ValidationError as exc:
            log.error("advisory.rejected", consumer=spec.durable, reason=str(exc))
            await msg.reject()
            return
        source = sources.get(advisory.consumer)
        if source is None or source.stream != advisory.stream:
            await msg.ack()  # another service's consumer: its own subscriber records it
            return
        try:
            letter = await _advisory_letter(broker, source, owners, advisory)
            if letter is not None:
                record = letter.record(
                    deliveries=advisory.deliveries, error=ADVISORY_ERROR, source="advisory"
                )
                if await record_dead_letter(
                    broker.connection.jetstream(), record, on_top_of=letter.on_top_of
                ):
                    metrics.dead_lettered(letter.owner.durable, "advisory")
        except Exception as exc:  # noqa: BLE001 - retried like any handler failure
            delivered = raw.metadata.num_delivered
            log.warning(
                "advisory.failed",
                consumer=advisory.consumer,
                stream_seq=advisory.stream_seq,
                error=describe_error(exc),
                delivered=delivered,
            )
            await msg.nack(delay=retry_delay(delivered))
            return
        await msg.ack()

    kwargs = _subscriber_kwargs(spec, batch=16, inbox_prefix=_pull_inbox_prefix(broker))
    _subscribe(broker, spec.filter_subject, kwargs, consume)


async def _advisory_letter(
    broker: NatsBroker,
    source: ConsumerSpec,
    owners: dict[str, ConsumerSpec],
    advisory: MaxDeliveriesAdvisory,
) -> _Letter | None:
    js = broker.connection.jetstream()
    original = await fetch_original(js, advisory.stream, advisory.stream_seq)
    if source.durable in owners:
        return _Letter(source, advisory.stream, advisory.stream_seq, original)
    if original is None:
        log.error("advisory.replay_gone", consumer=source.durable, stream_seq=advisory.stream_seq)
        return None
    origin = ReplayOrigin.of(original.headers)
    owner = owners.get(origin.consumer)
    if owner is None:
        log.error("advisory.replay_foreign", consumer=source.durable, names=origin.consumer)
        return None
    return _replayed_letter(owner, origin, original.body)
