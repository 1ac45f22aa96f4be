"""W3C trace context on events: parsed strictly, carried by handlers, timers and log lines."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
import structlog
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from structlog.contextvars import merge_contextvars

from accessbot.natsserver import EmbeddedNats
from shared.connection import make_broker
from shared.consumers import consumer
from shared.contracts.cloudevents import Envelope, decode, encode, to_structured_json
from shared.contracts.events import GrantExpired, GrantRevoked, Person
from shared.contracts.subjects import TimerPurpose
from shared.ids import new_id
from shared.permissions import ADMIN_USER
from shared.publishing import EventPublisher
from shared.subscribing import subscribe_events, subscribe_timers
from shared.timers import TimerFired, schedule
from shared.tracecontext import (
    TraceContext,
    handling,
    parse_traceparent,
    request_trace_id,
)
from tests.conftest import settings_for

UPSTREAM = TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")


def _expired(request_id: str) -> GrantExpired:
    return GrantExpired(
        request_id=request_id,
        requester=Person(email="alice@example.com"),
        profile_id="prod",
        device_id="n292kg92CNTRL",
        attribute="custom:prodAccess",
        expired_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    )


def test_the_w3c_example_parses_and_round_trips():
    value = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert parse_traceparent(value) == UPSTREAM
    assert UPSTREAM.traceparent == value
    unsampled = parse_traceparent(value[:-2] + "00")
    assert unsampled is not None
    assert not unsampled.sampled


@pytest.mark.parametrize(
    "value",
    [
        None,
        "",
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # upper case
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # zero trace id
        "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",  # zero span id
        "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",  # forbidden version
        "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-extra",  # v00 has 4 fields
        "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",  # short trace id
    ],
)
def test_a_malformed_traceparent_is_ignored(value):
    assert parse_traceparent(value) is None


def test_a_later_version_is_read_by_its_first_four_fields():
    value = "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-more"
    assert parse_traceparent(value) == UPSTREAM


def test_a_request_has_one_trace_id_wherever_it_is_computed():
    request_id = new_id()
    assert request_trace_id(request_id) == request_trace_id(request_id)
    assert request_trace_id(request_id) != request_trace_id(new_id())
    assert len(request_trace_id(request_id)) == 32


def test_the_extension_travels_in_binary_and_structured_mode():
    event = _expired(new_id())
    msg = encode(event, source="test", traceparent=UPSTREAM.traceparent)
    assert msg.headers["ce-traceparent"] == UPSTREAM.traceparent
    assert decode(msg.subject, msg.headers, msg.body).meta.traceparent == UPSTREAM.traceparent
    assert f'"traceparent":"{UPSTREAM.traceparent}"' in to_structured_json(
        msg.subject, msg.headers, msg.body
    )


def test_an_event_with_a_broken_traceparent_is_still_handled():
    event = _expired(new_id())
    msg = encode(event, source="test", traceparent="not-a-traceparent")
    envelope = decode(msg.subject, msg.headers, msg.body)
    assert envelope.event == event
    assert envelope.meta.traceparent is None


async def test_outside_any_handler_an_event_starts_its_requests_trace(admin_js: JetStreamContext):
    event = _expired(new_id())
    ack = await EventPublisher(admin_js, source="test").publish(event)
    raw = await admin_js.get_msg("ACCESS", ack.seq)
    trace = parse_traceparent((raw.headers or {}).get("ce-traceparent"))
    assert trace is not None
    assert trace.trace_id == request_trace_id(event.request_id)


async def test_a_handler_carries_the_trace_on_and_logs_its_id(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
):
    """An upstream trace (not the request's derived one) proves propagation, not derivation."""
    caused: list[Msg] = []
    done = asyncio.Event()
    publisher = EventPublisher(admin_js, source="test/grants")

    async def handler(env: Envelope[GrantExpired]) -> None:
        structlog.get_logger("test").info("inside")
        revoked = GrantRevoked(
            request_id=env.event.request_id,
            requester=env.event.requester,
            profile_id="prod",
            device_id="n292kg92CNTRL",
            attribute="custom:prodAccess",
            revoked_by=Person(email="secops@example.com"),
            revoked_at=datetime.now(UTC),
        )
        ack = await publisher.publish(revoked)
        caused.append(await admin_js.get_msg("ACCESS", ack.seq))  # type: ignore[arg-type]
        done.set()

    event = _expired(new_id())
    msg = encode(event, source="test", traceparent=UPSTREAM.traceparent)
    await admin_js.publish(msg.subject, msg.body, headers=msg.headers)
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, consumer("notifier", "notifier_grant_expired"), GrantExpired, handler)
    with structlog.testing.capture_logs(processors=[merge_contextvars]) as logs:
        async with broker:
            await broker.start()
            await asyncio.wait_for(done.wait(), timeout=10)
            await asyncio.sleep(0.2)
    out = parse_traceparent((caused[0].headers or {}).get("ce-traceparent"))
    assert out is not None
    assert out.trace_id == UPSTREAM.trace_id
    assert out.span_id != UPSTREAM.span_id  # the handler's own span is the parent
    lines = [e for e in logs if e["event"] in {"inside", "event.handled"}]
    assert len(lines) == 2
    assert {e["trace_id"] for e in lines} == {UPSTREAM.trace_id}


async def test_a_due_timer_continues_the_trace_it_was_scheduled_in(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
):
    fired = asyncio.Event()

    async def handler(_: TimerFired) -> None:
        structlog.get_logger("test").info("timer.inside")
        fired.set()

    request_id = new_id()
    with handling(UPSTREAM, request_id):
        await schedule(admin_js, TimerPurpose.GRANT_EXPIRY, request_id, datetime.now(UTC))
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_timers(broker, consumer("grants", "grants_timer_grant"), TimerFired, handler)
    with structlog.testing.capture_logs(processors=[merge_contextvars]) as logs:
        async with broker:
            await broker.start()
            await asyncio.wait_for(fired.wait(), timeout=10)
    [inside] = [e for e in logs if e["event"] == "timer.inside"]
    assert inside["trace_id"] == UPSTREAM.trace_id
