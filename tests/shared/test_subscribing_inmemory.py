"""Subscribers' routing and translation through FastStream's `TestNatsBroker`, in memory.

What FastStream's in-memory broker can show: which handler a subject reaches, what the
decoder hands it (`Envelope[Model]`, a due timer), what `DeliveryMiddleware` logs and
binds. What only a real server shows (acks, nak delays, redeliveries, dead letters) is
in test_subscribing.py (with `TestNatsBroker(with_real=True)` there) and test_deadletter.py.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

import pytest
import structlog
from faststream.nats import NatsBroker, TestNatsBroker

from shared import subscribing
from shared.connection import broker_inbox_prefix, make_broker
from shared.consumers import consumer, replay_consumer
from shared.contracts.cloudevents import EncodedMessage, Envelope, decode_as, encode
from shared.contracts.events import GrantExpired, Person
from shared.contracts.subjects import (
    TIMERS_STREAM,
    TimerPurpose,
    timer_due_subject,
    timer_schedule_subject,
)
from shared.deadletter import (
    DEADLETTER_CONSUMER_HEADER,
    DEADLETTER_GENERATION_HEADER,
    DEADLETTER_MARK_HEADER,
    DEADLETTER_SEQUENCE_HEADER,
    DEADLETTER_STREAM_HEADER,
    ORIGINAL_SUBJECT_HEADER,
)
from shared.ids import new_id
from shared.retry import RetryLaterError
from shared.settings import ServiceSettings
from shared.subscribing import SCHEDULER_HEADER, subscribe_events, subscribe_timers
from shared.timers import TimerFired

pytestmark = pytest.mark.handlers

SPEC = consumer("notifier", "notifier_grant_expired")
TIMER_SPEC = consumer("grants", "grants_timer_grant")


def _broker() -> NatsBroker:
    settings = ServiceSettings(nats_url="nats://127.0.0.1:1", nats_user="notifier")
    return make_broker(settings, name="t")


def _expired(request_id: str | None = None) -> GrantExpired:
    return GrantExpired(
        request_id=request_id or new_id(),
        requester=Person(email="alice@example.com"),
        profile_id="prod",
        device_id="n292kg92CNTRL",
        attribute="custom:prodAccess",
        expired_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    )


async def _publish(broker: NatsBroker, msg: EncodedMessage, *, stream: str = "ACCESS") -> None:
    await broker.publish(msg.body, msg.subject, headers=msg.headers, stream=stream)


def _collect() -> tuple[list[Any], Callable[[Any], Awaitable[None]]]:
    received: list[Any] = []

    async def handler(message: Any) -> None:
        received.append(message)

    return received, handler


def test_subscribers_pull_through_the_users_own_inbox() -> None:
    assert broker_inbox_prefix(_broker()) == b"_INBOX_notifier."


async def test_an_event_reaches_its_handler_as_a_typed_envelope() -> None:
    broker = _broker()
    received, handler = _collect()
    subscribe_events(broker, SPEC, GrantExpired, handler)
    event = _expired()
    sent = encode(event, source="test")
    with structlog.testing.capture_logs() as logs:
        async with TestNatsBroker(broker) as br:
            await _publish(br, sent)
    [envelope] = received
    assert isinstance(envelope, Envelope)
    assert envelope.event == event
    assert (envelope.meta.id, envelope.meta.source) == (sent.headers["ce-id"], "test")
    [handled] = [e for e in logs if e["event"] == "event.handled"]
    assert handled["consumer"] == SPEC.durable
    assert (handled["subject"], handled["type"]) == ("access.grant.expired", "GrantExpired")


async def test_the_body_is_decoded_once_for_the_middleware_and_the_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    decodes: list[str] = []
    real = decode_as

    def counted(*args: Any) -> Any:
        decodes.append(args[1])
        return real(*args)

    monkeypatch.setattr(subscribing, "decode_as", counted)
    broker = _broker()
    received, handler = _collect()
    subscribe_events(broker, SPEC, GrantExpired, handler)
    async with TestNatsBroker(broker) as br:
        await _publish(br, encode(_expired(), source="test"))
    assert len(received) == 1
    assert decodes == ["access.grant.expired"]


async def test_the_request_and_event_ids_are_bound_while_the_handler_runs() -> None:
    broker = _broker()
    bound: list[dict[str, Any]] = []

    async def handler(envelope: Envelope[GrantExpired]) -> None:
        bound.append(structlog.contextvars.get_contextvars())

    subscribe_events(broker, SPEC, GrantExpired, handler)
    event = _expired()
    sent = encode(event, source="test")
    async with TestNatsBroker(broker) as br:
        await _publish(br, sent)
    [context] = bound
    assert context["request_id"] == event.request_id
    assert context["event_id"] == sent.headers["ce-id"]
    assert len(context["trace_id"]) == 32
    assert "request_id" not in structlog.contextvars.get_contextvars()


async def test_an_event_that_does_not_decode_is_rejected_in_one_line() -> None:
    broker = _broker()
    received, handler = _collect()
    subscribe_events(broker, SPEC, GrantExpired, handler)
    sent = encode(_expired(), source="test")
    headers = {k: v for k, v in sent.headers.items() if k != "ce-type"}
    with structlog.testing.capture_logs() as logs:
        async with TestNatsBroker(broker) as br:
            await br.publish(sent.body, sent.subject, headers=headers, stream="ACCESS")
    assert received == []
    [rejected] = [e for e in logs if e["event"] == "event.rejected"]
    assert rejected["reason"] == "missing header ce-type"
    assert rejected["ce_id"] == sent.headers["ce-id"]
    assert (rejected["log_level"], "exc_info" in rejected) == ("error", False)
    assert not [e for e in logs if e["event"] == "event.handled"]


async def test_a_failing_handler_is_logged_with_its_backoff_and_nothing_escapes() -> None:
    broker = _broker()

    async def failing(envelope: Envelope[GrantExpired]) -> None:
        raise ConnectionError("Slack is down")

    subscribe_events(broker, SPEC, GrantExpired, failing)
    with structlog.testing.capture_logs() as logs:
        async with TestNatsBroker(broker) as br:
            await _publish(br, encode(_expired(), source="test"))
    [failed] = [e for e in logs if e["event"] == "event.failed"]
    assert (failed["delivered"], failed["max_deliver"], failed["retry_in_s"]) == (1, 20, 0.5)
    assert failed["error"] == "ConnectionError: Slack is down"
    assert failed["log_level"] == "error"


async def test_retry_later_is_logged_as_deferred() -> None:
    broker = _broker()

    async def busy(envelope: Envelope[GrantExpired]) -> None:
        raise RetryLaterError("another replica holds it", delay=0.2)

    subscribe_events(broker, SPEC, GrantExpired, busy)
    with structlog.testing.capture_logs() as logs:
        async with TestNatsBroker(broker) as br:
            await _publish(br, encode(_expired(), source="test"))
    [deferred] = [e for e in logs if e["event"] == "event.deferred"]
    assert (deferred["log_level"], deferred["retry_in_s"]) == ("info", 0.2)


def _replay_headers(original: EncodedMessage) -> dict[str, str]:
    return {
        **original.headers,
        ORIGINAL_SUBJECT_HEADER: original.subject,
        DEADLETTER_CONSUMER_HEADER: SPEC.durable,
        DEADLETTER_STREAM_HEADER: "ACCESS",
        DEADLETTER_SEQUENCE_HEADER: "7",
        DEADLETTER_GENERATION_HEADER: "0",
        DEADLETTER_MARK_HEADER: "3",
    }


async def test_a_replay_reaches_the_same_handler_decoded_from_its_origin() -> None:
    broker = _broker()
    received, handler = _collect()
    subscribe_events(broker, SPEC, GrantExpired, handler)
    event = _expired()
    original = encode(event, source="test")
    replay = replay_consumer(SPEC)
    with structlog.testing.capture_logs() as logs:
        async with TestNatsBroker(broker) as br:
            await br.publish(
                original.body,
                replay.filter_subject,
                headers=_replay_headers(original),
                stream=replay.stream,
            )
    assert [e.event for e in received] == [event]
    [replayed] = [e for e in logs if e["event"] == "event.replayed"]
    assert replayed["subject"] == "access.grant.expired"
    [handled] = [e for e in logs if e["event"] == "event.handled"]
    assert handled["subject"] == "access.grant.expired"


async def test_a_replay_that_does_not_say_its_origin_is_rejected() -> None:
    broker = _broker()
    received, handler = _collect()
    subscribe_events(broker, SPEC, GrantExpired, handler)
    original = encode(_expired(), source="test")
    replay = replay_consumer(SPEC)
    with structlog.testing.capture_logs() as logs:
        async with TestNatsBroker(broker) as br:
            await br.publish(
                original.body, replay.filter_subject, headers=original.headers, stream=replay.stream
            )
    assert received == []
    [rejected] = [e for e in logs if e["event"] == "event.rejected"]
    assert rejected["subject"] == replay.filter_subject
    assert rejected["reason"].startswith("not a replay message")


async def test_a_due_timer_reaches_its_handler_only_from_its_owners_schedule() -> None:
    broker = _broker()
    received, handler = _collect()
    subscribe_timers(broker, TIMER_SPEC, TimerFired, handler)
    ours, forged = new_id(), new_id()
    due = datetime.now(UTC)

    def fired(request_id: str) -> bytes:
        timer = TimerFired(request_id=request_id, purpose=TimerPurpose.GRANT_EXPIRY, due_at=due)
        return timer.model_dump_json().encode()

    with structlog.testing.capture_logs() as logs:
        async with TestNatsBroker(broker) as br:
            for request_id, purpose in ((forged, TimerPurpose.REQUEST_EXPIRY), (ours, None)):
                scheduler = timer_schedule_subject(purpose or TimerPurpose.GRANT_EXPIRY, request_id)
                await br.publish(
                    fired(request_id),
                    timer_due_subject(TimerPurpose.GRANT_EXPIRY, request_id),
                    headers={SCHEDULER_HEADER: scheduler},
                    stream=TIMERS_STREAM,
                )
    assert [t.request_id for t in received] == [ours]
    [rejected] = [e for e in logs if e["event"] == "timer.rejected"]
    assert SCHEDULER_HEADER in rejected["reason"]
    [handled] = [e for e in logs if e["event"] == "event.handled"]
    assert handled["type"] == "TimerFired"
