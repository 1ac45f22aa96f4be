"""Subscribers consume durably, dedupe, and reject malformed messages without blocking."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import pytest
import structlog
from faststream.nats import TestNatsBroker
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from shared import subscribing
from shared.connection import connect, make_broker
from shared.consumers import consumer
from shared.contracts.cloudevents import Envelope, encode
from shared.contracts.events import GrantExpired, Person
from shared.contracts.subjects import (
    TIMERS_STREAM,
    TimerPurpose,
    timer_due_subject,
    timer_schedule_subject,
)
from shared.ids import new_id
from shared.keyed_locks import KeyedLocks
from shared.permissions import ADMIN_USER
from shared.publishing import EventPublisher
from shared.retry import RetryLaterError
from shared.subscribing import subscribe_events, subscribe_timers
from shared.timers import SCHEDULE_HEADER, TARGET_HEADER, TimerFired, rfc3339, schedule
from tests.conftest import settings_for


def _expired(request_id: str) -> GrantExpired:
    return GrantExpired(
        request_id=request_id,
        requester=Person(email="alice@example.com"),
        profile_id="prod",
        device_id="n292kg92CNTRL",
        attribute="custom:prodAccess",
        expired_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    )


async def test_malformed_message_is_terminated_and_does_not_block(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    received: list[Envelope[GrantExpired]] = []
    done = asyncio.Event()

    async def handler(env: Envelope[GrantExpired]) -> None:
        received.append(env)
        done.set()

    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, consumer("notifier", "notifier_grant_expired"), GrantExpired, handler)
    # A malformed message first, then a valid one: the valid one must still arrive.
    await admin_js.publish("access.grant.expired", b"{not json", headers={"ce-id": "x"})
    good = _expired(new_id())
    publisher = EventPublisher(admin_js, source="test")
    await publisher.publish(good)
    with structlog.testing.capture_logs() as logs:
        async with broker:
            await broker.start()
            await asyncio.wait_for(done.wait(), timeout=10)
    assert [e.event for e in received] == [good]
    info = await admin_js.consumer_info("ACCESS", "notifier_grant_expired")
    assert info.num_ack_pending == 0
    assert info.num_pending == 0
    [rejected] = [entry for entry in logs if entry["event"] == "event.rejected"]
    assert rejected["subject"] == "access.grant.expired"
    assert rejected["consumer"] == "notifier_grant_expired"
    assert "missing header ce-specversion" in rejected["reason"]
    assert rejected["log_level"] == "error"


async def test_a_failing_handler_is_retried_until_it_succeeds(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    attempts: list[str] = []
    done = asyncio.Event()

    async def flaky(env: Envelope[GrantExpired]) -> None:
        attempts.append(env.meta.id)
        if len(attempts) < 3:
            raise ConnectionError("Slack is down")
        done.set()

    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, consumer("notifier", "notifier_grant_expired"), GrantExpired, flaky)
    await EventPublisher(admin_js, source="test").publish(_expired(new_id()))
    with structlog.testing.capture_logs() as logs:
        async with broker:
            await broker.start()
            await asyncio.wait_for(done.wait(), timeout=15)
    assert len(attempts) == 3
    assert len(set(attempts)) == 1  # the same event, redelivered
    failures = [entry for entry in logs if entry["event"] == "event.failed"]
    assert [f["delivered"] for f in failures] == [1, 2]
    assert all("ConnectionError: Slack is down" in f["error"] for f in failures)
    info = await admin_js.consumer_info("ACCESS", "notifier_grant_expired")
    assert info.num_ack_pending == 0


async def test_republish_with_same_event_id_is_deduplicated(admin_js: JetStreamContext) -> None:
    publisher = EventPublisher(admin_js, source="test")
    event = _expired(new_id())
    eid = new_id()
    first = await publisher.publish(event, event_id=eid)
    second = await publisher.publish(event, event_id=eid)
    assert not first.duplicate
    assert second.duplicate
    info = await admin_js.stream_info("ACCESS")
    assert info.state.messages == 1
    msg = encode(event, source="test", event_id=eid)
    assert msg.headers["Nats-Msg-Id"] == eid == msg.headers["ce-id"]


async def test_a_timer_scheduled_by_another_service_is_not_delivered(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    """The server accepts any TIMERS target, so approvals could aim a schedule of its own at
    grants' due subject; only schedules on the purpose's own subject may fire a handler."""
    fired: list[TimerFired] = []
    done = asyncio.Event()

    async def handler(timer: TimerFired) -> None:
        fired.append(timer)
        done.set()

    due = datetime.now(UTC)
    forged_id, real_id = new_id(), new_id()
    async with connected_as(nats_server, "approvals") as js:
        forged = TimerFired(request_id=forged_id, purpose=TimerPurpose.GRANT_EXPIRY, due_at=due)
        await js.publish(
            timer_schedule_subject(TimerPurpose.REQUEST_EXPIRY, forged_id),
            forged.model_dump_json().encode(),
            stream=TIMERS_STREAM,
            headers={
                SCHEDULE_HEADER: f"@at {rfc3339(due)}",
                TARGET_HEADER: timer_due_subject(TimerPurpose.GRANT_EXPIRY, forged_id),
            },
        )
    await asyncio.sleep(2.5)  # the forged one is due first
    async with connected_as(nats_server, "grants") as js:
        await schedule(js, TimerPurpose.GRANT_EXPIRY, real_id, datetime.now(UTC))
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_timers(broker, consumer("grants", "grants_timer_grant"), TimerFired, handler)
    async with broker:
        await broker.start()
        await asyncio.wait_for(done.wait(), timeout=10)
        await asyncio.sleep(0.5)
    assert [t.request_id for t in fired] == [real_id]
    info = await admin_js.consumer_info(TIMERS_STREAM, "grants_timer_grant")
    assert (info.num_pending, info.num_ack_pending) == (0, 0)


@asynccontextmanager
async def connected_as(server: EmbeddedNats, user: str) -> AsyncIterator[JetStreamContext]:
    nc = await connect(settings_for(server, user), name=f"test-{user}")
    try:
        yield nc.jetstream()
    finally:
        await nc.drain()


async def test_retry_later_is_deferred_quietly_and_redelivered(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    attempts: list[str] = []
    done = asyncio.Event()

    async def busy_once(env: Envelope[GrantExpired]) -> None:
        attempts.append(env.meta.id)
        if len(attempts) == 1:
            raise RetryLaterError("another replica holds it", delay=0.2)
        done.set()

    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    spec = consumer("notifier", "notifier_grant_expired")
    subscribe_events(broker, spec, GrantExpired, busy_once)
    await EventPublisher(admin_js, source="test").publish(_expired(new_id()))
    with structlog.testing.capture_logs() as logs:
        async with broker:
            await broker.start()
            await asyncio.wait_for(done.wait(), timeout=15)
    assert len(attempts) == 2
    deferred = [entry for entry in logs if entry["event"] == "event.deferred"]
    assert [(d["log_level"], d["retry_in_s"]) for d in deferred] == [("info", 0.2)]
    assert not [entry for entry in logs if entry["event"] == "event.failed"]


async def test_workers_let_a_slow_message_not_hold_up_the_next(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    first_may_finish = asyncio.Event()
    handled: list[str] = []
    ids = [new_id(), new_id()]

    async def handler(env: Envelope[GrantExpired]) -> None:
        if env.event.request_id == ids[0]:
            await asyncio.wait_for(first_may_finish.wait(), timeout=10)
        else:
            first_may_finish.set()  # only reachable while the first is still waiting
        handled.append(env.event.request_id)

    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    spec = consumer("notifier", "notifier_grant_expired")
    subscribe_events(broker, spec, GrantExpired, handler, max_workers=2)
    publisher = EventPublisher(admin_js, source="test")
    for request_id in ids:
        await publisher.publish(_expired(request_id))
    async with broker:
        await broker.start()
        for _ in range(200):
            if len(handled) == 2:
                break
            await asyncio.sleep(0.05)
    assert handled == [ids[1], ids[0]]


async def test_per_request_runs_one_requests_messages_in_order_and_others_alongside(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    slow, fast = new_id(), new_id()
    first_may_finish = asyncio.Event()
    handled: list[tuple[str, int]] = []
    seen: dict[str, int] = {}

    async def handler(env: Envelope[GrantExpired]) -> None:
        request_id = env.event.request_id
        seen[request_id] = seen.get(request_id, 0) + 1
        number = seen[request_id]
        if request_id == slow and number == 1:
            await asyncio.wait_for(first_may_finish.wait(), timeout=10)
        if request_id == fast:
            first_may_finish.set()  # reached only while slow's first message still waits
        handled.append((request_id, number))

    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    spec = consumer("notifier", "notifier_grant_expired")
    subscribe_events(broker, spec, GrantExpired, handler, max_workers=4, per_request=KeyedLocks())
    publisher = EventPublisher(admin_js, source="test")
    for request_id in (slow, slow, slow, fast):
        await publisher.publish(_expired(request_id))
    async with broker:
        await broker.start()
        for _ in range(200):
            if len(handled) == 4:
                break
            await asyncio.sleep(0.05)
    # The other request went first; the slow one's messages ran one at a time, in order.
    assert handled == [(fast, 1), (slow, 1), (slow, 2), (slow, 3)]


async def test_a_handler_working_past_the_ack_wait_is_not_redelivered_meanwhile(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A request waiting its turn or a Tailscale retry being waited out can outlast the ack
    wait: the subscriber says the message is in progress, so no second worker gets it."""
    monkeypatch.setattr(subscribing, "ACK_WAIT_SECONDS", 1.5)  # consumer created with it
    attempts: list[str] = []
    done = asyncio.Event()

    async def slow(env: Envelope[GrantExpired]) -> None:
        attempts.append(env.meta.id)
        await asyncio.sleep(4.0)
        done.set()

    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    spec = consumer("notifier", "notifier_grant_expired")
    subscribe_events(broker, spec, GrantExpired, slow, max_workers=4)
    await EventPublisher(admin_js, source="test").publish(_expired(new_id()))
    async with broker:
        await broker.start()
        await asyncio.wait_for(done.wait(), timeout=15)
        await asyncio.sleep(2.0)  # a redelivery after the handler ended would show here
    assert len(attempts) == 1
    info = await admin_js.consumer_info("ACCESS", spec.durable)
    assert info.config.ack_wait == 1.5
    assert (info.num_ack_pending, info.num_redelivered) == (0, 0)


async def test_with_a_real_server_a_failure_is_naked_with_its_delay_then_acked(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    """JetStream-specific: the nak's delay holds the redelivery back, and the ack sticks."""
    attempts: list[float] = []
    done = asyncio.Event()

    async def fails_once(envelope: Envelope[GrantExpired]) -> None:
        attempts.append(time.monotonic())
        if len(attempts) == 1:
            raise ConnectionError("Slack is down")
        done.set()

    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    spec = consumer("notifier", "notifier_grant_expired")
    subscribe_events(broker, spec, GrantExpired, fails_once)
    sent = encode(_expired(new_id()), source="test")
    async with TestNatsBroker(broker, with_real=True) as br:
        # Published through the broker (FastStream's JetStream publish), consumed for real.
        await br.publish(sent.body, sent.subject, headers=sent.headers, stream="ACCESS")
        await asyncio.wait_for(done.wait(), timeout=15)
    first, second = attempts
    assert second - first >= subscribing.retry_delay(1) * 0.9
    info = await admin_js.consumer_info("ACCESS", spec.durable)
    assert (info.num_ack_pending, info.num_pending) == (0, 0)
    assert info.delivered.stream_seq == 1
