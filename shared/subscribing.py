"""Durable JetStream pull subscribers that only translate and delegate.

`subscribe_events` registers a FastStream subscriber for one consumer of
`shared.consumers`: it decodes the CloudEvent (a message that does not validate
is logged and terminated, never retried forever), binds `request_id`, calls the
domain handler, acks on success and naks with a capped backoff on failure (so a
transient outage loses nothing), and logs one canonical line per event.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import structlog
from faststream import AckPolicy
from faststream.nats import ConsumerConfig, JStream, NatsBroker, NatsMessage, PullSub
from nats.js.api import AckPolicy as JsAckPolicy
from nats.js.api import DeliverPolicy
from pydantic import BaseModel, ValidationError

from shared.cloudevents import Envelope, InvalidEventError, decode_as
from shared.consumers import ConsumerSpec
from shared.events import Event
from shared.keyed_locks import KeyedLocks
from shared.logging import bound_event
from shared.retry import RetryLaterError
from shared.subjects import TimerPurpose, timer_due_subject, timer_schedule_subject

E = TypeVar("E", bound=Event)
M = TypeVar("M", bound=BaseModel)

ACK_WAIT_SECONDS = 30.0
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
        "config": ConsumerConfig(
            durable_name=spec.durable,
            filter_subject=spec.filter_subject,
            ack_policy=JsAckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=ACK_WAIT_SECONDS,
            max_ack_pending=1000,
        ),
        "title": spec.durable,
    }


async def _finish(
    msg: NatsMessage, run: Callable[[], Awaitable[None]], fields: dict[str, Any]
) -> None:
    started = time.perf_counter()
    try:
        await run()
    except RetryLaterError as later:
        log.info("event.deferred", **fields, reason=str(later), retry_in_s=later.delay)
        await msg.nack(delay=later.delay)
        return
    except Exception as exc:
        delivered = msg.raw_message.metadata.num_delivered
        delay = retry_delay(delivered)
        log.exception(
            "event.failed",
            **fields,
            error=f"{type(exc).__name__}: {exc}",
            delivered=delivered,
            retry_in_s=delay,
        )
        await msg.nack(delay=delay)
        return
    await msg.ack()
    log.info(
        "event.handled", **fields, duration_ms=round(1000 * (time.perf_counter() - started), 2)
    )


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

    async def consume(msg: NatsMessage) -> None:
        raw = msg.raw_message
        try:
            envelope = decode_as(model, raw.subject, raw.headers, raw.data)
        except InvalidEventError as exc:
            log.error(
                "event.rejected",
                consumer=spec.durable,
                subject=raw.subject,
                ce_id=(raw.headers or {}).get("ce-id"),
                reason=str(exc),
            )
            await msg.reject()
            return
        fields = {"consumer": spec.durable, "subject": raw.subject, "type": model.__name__}
        with bound_event(envelope.event.request_id, envelope.meta.id):
            await _finish(
                msg, _serialised(per_request, envelope.event.request_id, handler, envelope), fields
            )

    kwargs = _subscriber_kwargs(spec, batch=batch, inbox_prefix=_pull_inbox_prefix(broker))
    if max_workers > 1:
        kwargs["max_workers"] = max_workers
    broker.subscriber(spec.filter_subject, **kwargs)(consume)


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

    async def consume(msg: NatsMessage) -> None:
        raw = msg.raw_message
        try:
            fired = model.model_validate_json(raw.data)
        except ValidationError as exc:
            log.error("timer.rejected", consumer=spec.durable, subject=raw.subject, reason=str(exc))
            await msg.reject()
            return
        request_id = str(getattr(fired, "request_id", raw.subject.rsplit(".", 1)[-1]))
        problem = _timer_provenance_problem(raw.subject, raw.headers, request_id)
        if problem is not None:
            log.error("timer.rejected", consumer=spec.durable, subject=raw.subject, reason=problem)
            await msg.reject()
            return
        fields = {"consumer": spec.durable, "subject": raw.subject, "type": model.__name__}
        with bound_event(request_id):
            await _finish(msg, _serialised(per_request, request_id, handler, fired), fields)

    kwargs = _subscriber_kwargs(spec, batch=16, inbox_prefix=_pull_inbox_prefix(broker))
    if max_workers > 1:
        kwargs["max_workers"] = max_workers
    broker.subscriber(spec.filter_subject, **kwargs)(consume)
