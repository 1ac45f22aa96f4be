"""Durable JetStream pull subscribers that only translate and delegate, on FastStream.

Each consumer of `shared.consumers` is one FastStream pull subscriber with two FastStream
extension points doing the work the handlers used to repeat:

- a **decoder** (`envelope_decoder`, `timer_decoder`) turns the delivery into what the
  handler takes, a typed `Envelope[Model]` (CloudEvent attributes + the validated event)
  or a due timer, decoding the body once (FastStream's own JSON decode never runs, and
  FastStream caches the result, so the middleware and the handler share it);
- a **middleware** (`DeliveryMiddleware`, a `BaseMiddleware`) around every handler call:
  it rejects what does not decode (logged and terminated, never retried forever), binds
  `request_id` and the trace, holds the request's keyed lock, tells JetStream the message
  is in progress while the handler works, acks on success, naks with a capped backoff on
  failure (a transient outage loses nothing) and writes the one canonical log line.

Deliveries are bounded (`ConsumerSpec.max_deliver`): when the last one fails too, the
middleware records the message as dead-lettered (`shared.deadlettering`) and terminates
it, so a poison message stops coming back while the consumer goes on with the next ones.
If the process dies on that last attempt, JetStream's max-deliveries advisory (kept in
the DEADLETTER stream) is recorded instead by the service's advisory subscriber. The
admin re-delivers a dead letter to its consumer alone through
`deadletter.replay.<consumer>`, which `subscribe_events` / `subscribe_timers` also consume
with the same handler (the decoder reads the original subject and headers from the
replay's headers).

FastStream's middlewares are per broker or per router, so each consumer gets a
`NatsRouter` of its own carrying its `DeliveryMiddleware` (which consumer, which model,
which locks), included in the service's broker.
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
from faststream import AckPolicy, BaseMiddleware, ContextRepo, StreamMessage
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsRouter, PullSub
from faststream.nats.message import NatsMessage  # the class (faststream.nats's is for DI)
from nats.aio.msg import Msg
from nats.errors import NotJSMessageError
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy
from pydantic import BaseModel, ValidationError

from shared import tracecontext
from shared.connection import broker_inbox_prefix
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


def _subscriber_kwargs(spec: ConsumerSpec, *, batch: int, inbox_prefix: bytes) -> dict[str, Any]:
    return {
        "stream": JStream(name=spec.stream, declare=False),
        "inbox_prefix": inbox_prefix,
        "durable": spec.durable,
        "pull_sub": PullSub(batch_size=batch, timeout=5.0),
        # Acked, naked or terminated by DeliveryMiddleware (FastStream's own policies have
        # no per-delivery backoff and no dead-letter hand-off).
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


def delivery_number(raw: Msg) -> int:
    """JetStream's count of this message's deliveries; 1 for a message without JetStream
    metadata (`TestNatsBroker`'s in-memory deliveries have none)."""
    try:
        return raw.metadata.num_delivered
    except NotJSMessageError:
        return 1


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


def _direct_letter(owner: ConsumerSpec, raw: Msg) -> _Letter:
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


# --- Decoders: the delivery -> what the handler takes ----------------------------------


@dataclass(frozen=True, slots=True)
class Addressed:
    """Where a delivery was first published: its own subject and headers, or, for a
    replay, the dead letter's (`origin`)."""

    subject: str
    headers: Mapping[str, str] | None
    origin: ReplayOrigin | None = None


def addressed(raw: Msg, *, replay: bool) -> Addressed:
    """The delivery's original address; ValueError when a replay's headers do not say."""
    if not replay:
        return Addressed(raw.subject, raw.headers)
    origin = ReplayOrigin.of(raw.headers)
    return Addressed(origin.subject, origin.headers, origin)


Decoder = Callable[[StreamMessage[Msg]], Awaitable[Any]]


def envelope_decoder(model: type[E], *, replay: bool = False) -> Decoder:
    """FastStream decoder: the delivery as `Envelope[model]`, or InvalidEventError (a
    ValueError) with the reason it can never be handled. Validates the body once."""

    async def decode(msg: StreamMessage[Msg]) -> Envelope[E]:
        raw = msg.raw_message
        where = addressed(raw, replay=replay)
        return decode_as(model, where.subject, where.headers, raw.data)

    return decode


def timer_decoder(model: type[M], *, replay: bool = False) -> Decoder:
    """FastStream decoder: a due timer validated as `model`, fired by its owner's own
    schedule (`_timer_provenance_problem`), or ValueError."""

    async def decode(msg: StreamMessage[Msg]) -> M:
        raw = msg.raw_message
        where = addressed(raw, replay=replay)
        try:
            fired = model.model_validate_json(raw.data)
        except ValidationError as exc:
            raise ValueError(str(exc)) from None
        problem = _timer_provenance_problem(
            where.subject, dict(where.headers or {}), _timer_key(fired, where.subject)
        )
        if problem is not None:
            raise ValueError(problem)
        return fired

    return decode


def _timer_key(fired: object, subject: str) -> str:
    return str(getattr(fired, "request_id", subject.rsplit(".", 1)[-1]))


def _event_ids(decoded: Any, subject: str) -> tuple[str, str | None]:
    assert isinstance(decoded, Envelope)
    return decoded.event.request_id, decoded.meta.id


def _timer_ids(decoded: Any, subject: str) -> tuple[str, str | None]:
    return _timer_key(decoded, subject), None


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


# --- The middleware: log line, bindings, ack / nak / dead letter -----------------------


@dataclass(frozen=True, slots=True)
class Route:
    """What `DeliveryMiddleware` needs to know about one subscriber."""

    broker: NatsBroker
    owner: ConsumerSpec  # the consumer (a replay subscriber's too: its dead letters' owner)
    kind: str  # "event" or "timer": the log lines' prefix
    type_name: str
    ids: Callable[[Any, str], tuple[str, str | None]]  # (decoded, subject) -> ids to log
    replay: bool = False
    per_request: KeyedLocks | None = None

    def __call__(self, msg: Any, /, *, context: ContextRepo) -> DeliveryMiddleware:
        """FastStream's middleware factory: one `DeliveryMiddleware` per delivery."""
        return DeliveryMiddleware(msg, context=context, route=self)


class DeliveryMiddleware(BaseMiddleware):
    """Our delivery policy around one handler call (see the module's docstring).

    `consume_scope` and not `on_receive`/`after_processed`: the outcome decides the log
    line and the answer to JetStream, and the handler must run inside the bindings, the
    keyed lock and the in-progress heartbeat. The middleware swallows the handler's
    exception once it has answered JetStream, so FastStream logs nothing of its own.
    """

    __slots__ = ("route",)

    def __init__(self, msg: Any, /, *, context: ContextRepo, route: Route) -> None:
        super().__init__(msg, context=context)
        self.route = route

    async def consume_scope(
        self, call_next: Callable[[Any], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        assert isinstance(msg, NatsMessage)
        route, raw = self.route, msg.raw_message
        rejected = f"{route.kind}.rejected"
        try:
            where = addressed(raw, replay=route.replay)
        except ValueError as exc:
            log.error(rejected, consumer=route.owner.durable, subject=raw.subject, reason=str(exc))
            return await self._reject(msg)
        if where.origin is not None:
            log.info("event.replayed", consumer=route.owner.durable, subject=where.subject)
        try:
            decoded = await msg.decode()  # cached: the handler gets this very object
        except ValueError as exc:
            log.error(
                rejected,
                consumer=route.owner.durable,
                subject=where.subject,
                ce_id=(where.headers or {}).get("ce-id"),
                reason=str(exc),
            )
            return await self._reject(msg)
        request_id, event_id = route.ids(decoded, where.subject)
        fields = {
            "consumer": route.owner.durable,
            "subject": where.subject,
            "type": route.type_name,
        }
        incoming = tracecontext.from_headers(where.headers)
        with (
            tracecontext.handling(incoming, request_id, route.owner.filter_subject) as span,
            bound_event(request_id, event_id, trace_id=span.trace_id),
        ):
            await self._finish(msg, where, fields, lambda: self._run(call_next, msg, request_id))
        return None

    async def _reject(self, msg: NatsMessage) -> None:
        metrics.finished(self.route.owner, metrics.Outcome.REJECTED)
        await msg.reject()

    async def _run(
        self, call_next: Callable[[Any], Awaitable[Any]], msg: NatsMessage, key: str
    ) -> None:
        locks = self.route.per_request
        if locks is None:
            await call_next(msg)
            return
        async with locks.hold(key):  # one request's messages one at a time, in order
            await call_next(msg)

    async def _finish(
        self,
        msg: NatsMessage,
        where: Addressed,
        fields: dict[str, Any],
        run: Callable[[], Awaitable[None]],
    ) -> None:
        owner = self.route.owner
        started = time.perf_counter()
        delivered = delivery_number(msg.raw_message)
        metrics.received(owner, delivered)
        last = delivered >= owner.max_deliver
        try:
            await _run_in_progress(msg, run)
        except RetryLaterError as later:
            if not last:
                metrics.finished(owner, metrics.Outcome.DEFERRED, time.perf_counter() - started)
                log.info("event.deferred", **fields, reason=str(later), retry_in_s=later.delay)
                await msg.nack(delay=later.delay)
                return
            error = describe_error(later)
        except Exception as exc:  # noqa: BLE001 - any failure is retried, then dead-lettered
            error = describe_error(exc)
            if not last:
                metrics.finished(owner, metrics.Outcome.FAILED, time.perf_counter() - started)
                delay = retry_delay(delivered)
                # One traceback per message (its first failure); retries say one line each.
                failed = log.error if delivered == 1 else log.warning
                failed(
                    "event.failed",
                    **fields,
                    error=error,
                    delivered=delivered,
                    max_deliver=owner.max_deliver,
                    retry_in_s=delay,
                    exc_info=delivered == 1,
                )
                await msg.nack(delay=delay)
                return
        else:
            await msg.ack()
            seconds = time.perf_counter() - started
            metrics.finished(owner, metrics.Outcome.HANDLED, seconds)
            log.info("event.handled", **fields, duration_ms=round(1000 * seconds, 2))
            return
        raw = msg.raw_message
        if where.origin is not None:
            letter = _replayed_letter(owner, where.origin, raw.data)
        else:
            letter = _direct_letter(owner, raw)
        await _dead_letter(self.route.broker, msg, letter, delivered, error)


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


# --- Registration ----------------------------------------------------------------------


def _subscribe(
    broker: NatsBroker,
    subject: str,
    kwargs: dict[str, Any],
    handler: Callable[..., Awaitable[None]],
    *,
    decoder: Decoder,
    route: Route | None,
) -> None:
    """One pull subscriber on its own router (carrying `route`'s middleware, if any)."""
    router = NatsRouter(middlewares=(route,) if route is not None else ())
    subscriber = router.subscriber(subject, decoder=decoder, **kwargs)
    tolerate_idle_fetch(subscriber)  # see shared.pull_timeouts
    subscriber(handler)
    broker.include_router(router)


def _register(
    broker: NatsBroker,
    spec: ConsumerSpec,
    handler: Callable[[Any], Awaitable[None]],
    decoder: Callable[..., Decoder],
    model: type[BaseModel],
    *,
    kind: str,
    ids: Callable[[Any, str], tuple[str, str | None]],
    batch: int,
    max_workers: int,
    per_request: KeyedLocks | None,
) -> None:
    prefix = broker_inbox_prefix(broker)
    route = Route(broker, spec, kind, model.__name__, ids, per_request=per_request)
    kwargs = _subscriber_kwargs(spec, batch=batch, inbox_prefix=prefix)
    if max_workers > 1:
        kwargs["max_workers"] = max_workers
    _subscribe(broker, spec.filter_subject, kwargs, handler, decoder=decoder(model), route=route)
    # Replays are rare and handled one at a time. A consumer made after replays were sent
    # takes them all (nothing lost); handlers are idempotent, so one handled before is a no-op.
    replay = replay_consumer(spec)
    _subscribe(
        broker,
        replay.filter_subject,
        _subscriber_kwargs(replay, batch=1, inbox_prefix=prefix),
        handler,
        decoder=decoder(model, replay=True),
        route=Route(broker, spec, kind, model.__name__, ids, replay=True, per_request=per_request),
    )
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
    """Consume `spec` durably, decode each message as `Envelope[model]`, delegate to `handler`.

    `max_workers` > 1 handles that many messages at once (the handler must then be safe
    to run concurrently), so one slow message (a Slack rate limit or a Tailscale retry
    being waited out) does not hold up the others. `per_request` (shared by a service's
    subscribers) runs the messages of one request one at a time, in the order received.
    """
    _register(
        broker,
        spec,
        handler,
        envelope_decoder,
        model,
        kind="event",
        ids=_event_ids,
        batch=batch,
        max_workers=max_workers,
        per_request=per_request,
    )


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
    _register(
        broker,
        spec,
        handler,
        timer_decoder,
        model,
        kind="timer",
        ids=_timer_ids,
        batch=16,
        max_workers=max_workers,
        per_request=per_request,
    )


async def _the_message(msg: StreamMessage[Msg]) -> StreamMessage[Msg]:
    """The advisory subscriber's decoder: the message itself (it answers JetStream in
    its own way, below), so FastStream's JSON decode of the body never runs."""
    return msg


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

    kwargs = _subscriber_kwargs(spec, batch=16, inbox_prefix=broker_inbox_prefix(broker))
    _subscribe(broker, spec.filter_subject, kwargs, consume, decoder=_the_message, route=None)


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
