"""Poison messages: bounded deliveries, dead-letter records, replay to one consumer only."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
import structlog
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from shared.connection import connect, make_broker
from shared.consumers import MAX_DELIVER, ConsumerSpec, consumer
from shared.contracts.cloudevents import Envelope, decode
from shared.contracts.events import DeliveryDeadLettered, GrantExpired, Person
from shared.contracts.subjects import ACCESS_STREAM, DEADLETTER_STREAM, Subject, TimerPurpose
from shared.deadletter import DeadLetterRecord
from shared.deadlettering import (
    ReplayError,
    StoredRecord,
    current_records,
    pending_records,
    record_dead_letter,
    replay,
)
from shared.ids import new_id
from shared.permissions import ADMIN_USER
from shared.provisioning import bound_deliveries
from shared.publishing import EventPublisher
from shared.subscribing import consumer_config, subscribe_events, subscribe_timers
from shared.timers import TimerFired, schedule
from tests.conftest import settings_for

N = 3
NOTIFIER = dataclasses.replace(consumer("notifier", "notifier_grant_expired"), max_deliver=N)
APPROVALS = dataclasses.replace(consumer("approvals", "approvals_grant_ended"), max_deliver=N)


def _expired(request_id: str) -> GrantExpired:
    return GrantExpired(
        request_id=request_id,
        requester=Person(email="alice@example.com"),
        profile_id="prod",
        device_id="n292kg92CNTRL",
        attribute="custom:prodAccess",
        expired_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    )


async def until(predicate: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not predicate():
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def announcements(js: JetStreamContext) -> list[DeliveryDeadLettered]:
    """The access.delivery.deadlettered events in ACCESS."""
    found = []
    info = await js.stream_info(ACCESS_STREAM)
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(ACCESS_STREAM, seq)
        if msg.subject == Subject.DELIVERY_DEADLETTERED.value:
            event = decode(msg.subject or "", msg.headers, msg.data or b"").event
            assert isinstance(event, DeliveryDeadLettered)
            found.append(event)
    return found


class Handler:
    """Fails for the poison request until fixed; records every attempt and every success."""

    def __init__(self, poison: str) -> None:
        self.poison = poison
        self.fixed = False
        self.attempts: list[str] = []
        self.handled: list[str] = []

    async def __call__(self, env: Envelope[GrantExpired]) -> None:
        self.attempts.append(env.event.request_id)
        if env.event.request_id == self.poison and not self.fixed:
            raise ValueError("cannot render this one")
        self.handled.append(env.event.request_id)


async def test_a_poison_event_is_dead_lettered_after_n_deliveries_and_replayed_once(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    poison, good = new_id(), [new_id(), new_id()]
    notifier, approvals = Handler(poison), Handler("never")
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, NOTIFIER, GrantExpired, notifier)
    # A second consumer of the same subject: it handles the event once, and a replay
    # meant for the notifier must not reach it.
    subscribe_events(broker, APPROVALS, GrantExpired, approvals)
    publisher = EventPublisher(admin_js, source="test")
    poison_id = new_id()
    await publisher.publish(_expired(poison), event_id=poison_id)
    for request_id in good:
        await publisher.publish(_expired(request_id))
    with structlog.testing.capture_logs() as logs:
        async with broker:
            await broker.start()
            await until(lambda: set(good) <= set(notifier.handled))  # not held up
            await until(lambda: notifier.attempts.count(poison) == N)
            await until(lambda: any(e["event"] == "event.deadlettered" for e in logs))
            await asyncio.sleep(1.5)  # it does not come back
            assert notifier.attempts.count(poison) == N
            [pending] = [s.record for s in await pending_records(admin_js)]
            assert (pending.consumer, pending.service) == ("notifier_grant_expired", "notifier")
            assert (pending.event_id, pending.request_id) == (poison_id, poison)
            assert pending.subject == "access.grant.expired"
            assert (pending.deliveries, pending.source) == (N, "handler")
            assert pending.last_error == "ValueError: cannot render this one"
            assert pending.message is not None
            assert GrantExpired.model_validate_json(pending.message.body) == _expired(poison)
            info = await admin_js.consumer_info(ACCESS_STREAM, NOTIFIER.durable)
            assert (info.num_pending, info.num_ack_pending) == (0, 0)

            notifier.fixed = True
            [replayed] = await replay(admin_js, poison_id)
            assert replayed.consumer == NOTIFIER.durable
            await until(lambda: poison in notifier.handled)
            await asyncio.sleep(1.5)
            assert notifier.handled.count(poison) == 1
            assert approvals.handled.count(poison) == 1  # its original delivery only
            assert await pending_records(admin_js) == []

    [logged] = [e for e in logs if e["event"] == "event.deadlettered"]
    assert logged["log_level"] == "error"
    assert (logged["consumer"], logged["ce_id"], logged["request_id"]) == (
        NOTIFIER.durable,
        poison_id,
        poison,
    )
    assert (logged["deliveries"], logged["last_error"]) == (N, "ValueError: cannot render this one")
    failed = [e for e in logs if e["event"] == "event.failed" and e["consumer"] == NOTIFIER.durable]
    assert [f["delivered"] for f in failed] == list(range(1, N))
    assert [bool(f.get("exc_info")) for f in failed] == [True] + [False] * (N - 2)
    [announced] = await announcements(admin_js)
    assert (announced.request_id, announced.event_id, announced.consumer) == (
        poison,
        poison_id,
        NOTIFIER.durable,
    )
    assert (announced.profile_id, announced.deliveries) == ("prod", N)


async def test_a_replay_that_fails_again_is_dead_lettered_again(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    poison = new_id()
    notifier = Handler(poison)
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, NOTIFIER, GrantExpired, notifier)
    event_id = new_id()
    await EventPublisher(admin_js, source="test").publish(_expired(poison), event_id=event_id)
    async with broker:
        await broker.start()
        await until(lambda: len(notifier.attempts) == N)
        await pending_soon(admin_js)
        await replay(admin_js, event_id)  # not fixed: it fails N more times
        await until(lambda: len(notifier.attempts) == 2 * N)
        records = await pending_soon(admin_js)
    [again] = [s.record for s in records]
    assert (again.generation, again.deliveries, again.event_id) == (1, N, event_id)
    assert len(await announcements(admin_js)) == 2
    history = [s async for s in current_records(admin_js)]
    assert len(history) == 1  # one dead letter, in its latest state


async def test_the_advisory_records_a_message_whose_last_attempt_never_answered(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    """The process died on every delivery (no nak, no record): JetStream gives up, its
    advisory waits in DEADLETTER, and the service records it when it runs again."""
    poison = new_id()
    event_id = new_id()
    await crash_on_every_delivery(admin_js, poison, event_id)
    assert await pending_records(admin_js) == []  # nobody recorded it yet

    notifier = Handler("never")
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, NOTIFIER, GrantExpired, notifier)
    async with broker:
        await broker.start()
        records = await pending_soon(admin_js)
    [record] = [s.record for s in records]
    assert (record.source, record.deliveries, record.event_id) == ("advisory", N, event_id)
    assert record.message is not None
    assert GrantExpired.model_validate_json(record.message.body).request_id == poison
    assert "without an answer" in record.last_error
    assert notifier.attempts == []  # it was not delivered again
    [announced] = await announcements(admin_js)
    assert announced.request_id == poison


async def crash_on_every_delivery(js: JetStreamContext, request_id: str, event_id: str) -> int:
    """Publish an event; deliver it N times without an answer. Its ACCESS sequence."""
    await js.add_consumer(ACCESS_STREAM, consumer_config(NOTIFIER))
    ack = await EventPublisher(js, source="test").publish(_expired(request_id), event_id=event_id)
    crashing = await js.pull_subscribe_bind(NOTIFIER.durable, stream=ACCESS_STREAM)
    for _ in range(N):
        [msg] = await crashing.fetch(1, timeout=5)
        await msg.nak()  # what an ack-wait timeout does, without waiting 30 s for it
    # The server gives up (and advises) when it would redeliver, i.e. on the next pull.
    with contextlib.suppress(NatsTimeoutError, TimeoutError):
        await crashing.fetch(1, timeout=1)
    await crashing.unsubscribe()
    await until_stored(js, DEADLETTER_STREAM, 1)
    return ack.seq


async def test_an_advisory_for_a_message_gone_from_the_stream_is_recorded_without_it(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    event_id = new_id()
    seq = await crash_on_every_delivery(admin_js, new_id(), event_id)
    await admin_js.delete_msg(ACCESS_STREAM, seq)
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, NOTIFIER, GrantExpired, Handler("never"))
    async with broker:
        await broker.start()
        [stored] = await pending_soon(admin_js)
    record = stored.record
    assert (record.message, record.event_id, record.stream_sequence) == (None, None, seq)
    assert record.subject == NOTIFIER.filter_subject
    name = f"{NOTIFIER.durable}:{seq}"
    with pytest.raises(ReplayError, match="had left stream ACCESS"):
        await replay(admin_js, name)


async def pending_soon(js: JetStreamContext) -> list[StoredRecord]:
    for _ in range(150):
        records = await pending_records(js)
        if records:
            return records
        await asyncio.sleep(0.1)
    raise AssertionError("nothing was dead-lettered")


async def until_stored(js: JetStreamContext, stream: str, count: int) -> None:
    for _ in range(100):
        if (await js.stream_info(stream)).state.messages >= count:
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"{stream} never held {count} messages")


def _record(source: str) -> DeadLetterRecord:
    return DeadLetterRecord.model_validate(
        {
            "service": "notifier",
            "consumer": NOTIFIER.durable,
            "stream": ACCESS_STREAM,
            "stream_sequence": 7,
            "subject": "access.grant.expired",
            "event_id": new_id(),
            "request_id": new_id(),
            "deliveries": N,
            "last_error": "boom",
            "source": source,
            "recorded_at": datetime.now(UTC),
        }
    )


async def test_recording_twice_is_deduplicated(admin_js: JetStreamContext) -> None:
    with structlog.testing.capture_logs() as logs:
        assert await record_dead_letter(admin_js, _record("handler")) is True
        assert await record_dead_letter(admin_js, _record("advisory")) is False
    info = await admin_js.stream_info(DEADLETTER_STREAM)
    assert info.state.messages == 1
    [kept] = [s.record for s in await pending_records(admin_js)]
    assert kept.source == "handler"
    assert len([e for e in logs if e["event"] == "event.deadlettered"]) == 1
    assert len(await announcements(admin_js)) == 1


async def test_the_expectation_refuses_a_second_record_after_the_dedupe_window(
    admin_js: JetStreamContext,
) -> None:
    """The `Nats-Msg-Id` window is two minutes; an advisory recorded hours later is
    refused by the expected-last-subject-sequence (here: another generation's id)."""
    first = _record("handler")
    assert await record_dead_letter(admin_js, first) is True
    late = first.model_copy(update={"generation": 5, "source": "advisory"})
    assert await record_dead_letter(admin_js, late) is False
    assert (await admin_js.stream_info(DEADLETTER_STREAM)).state.messages == 1


async def test_existing_consumers_get_their_delivery_bound(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    """Consumers created before max_deliver existed are updated at start, as the service."""
    spec = consumer("notifier", "notifier_grant_expired")
    legacy = consumer_config(spec)
    legacy.max_deliver = None
    await admin_js.add_consumer(ACCESS_STREAM, legacy)
    assert (await admin_js.consumer_info(ACCESS_STREAM, spec.durable)).config.max_deliver == -1
    nc = await connect(settings_for(nats_server, "notifier"), name="t")
    try:
        js = nc.jetstream()
        updates = await bound_deliveries(js, [spec])
        again = await bound_deliveries(js, [spec])
    finally:
        await nc.close()
    assert [(u.durable, u.was, u.now) for u in updates] == [(spec.durable, -1, MAX_DELIVER)]
    assert again == []
    info = await admin_js.consumer_info(ACCESS_STREAM, spec.durable)
    assert info.config.max_deliver == MAX_DELIVER


def test_every_consumer_is_bounded() -> None:
    from shared.consumers import CONSUMERS

    assert all(isinstance(c, ConsumerSpec) and 1 < c.max_deliver <= 50 for c in CONSUMERS)
    assert all(consumer_config(c).max_deliver == c.max_deliver for c in CONSUMERS)


async def test_a_due_timer_is_dead_lettered_and_replayed_with_its_provenance(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    """A timer has no event id: it is replayed as CONSUMER:SEQ, and the replay still
    passes the check that its own service scheduled it (the server's Nats-Scheduler)."""
    spec = dataclasses.replace(consumer("grants", "grants_timer_grant"), max_deliver=2)
    request_id = new_id()
    attempts: list[str] = []
    fixed = asyncio.Event()

    async def handler(timer: TimerFired) -> None:
        attempts.append(timer.request_id)
        if not fixed.is_set():
            raise RuntimeError("Tailscale said 400")

    nc = await connect(settings_for(nats_server, "grants"), name="t")
    await schedule(nc.jetstream(), TimerPurpose.GRANT_EXPIRY, request_id, datetime.now(UTC))
    await nc.drain()
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_timers(broker, spec, TimerFired, handler)
    with structlog.testing.capture_logs() as logs:
        async with broker:
            await broker.start()
            [stored] = await pending_soon(admin_js)
            record = stored.record
            assert (record.event_id, record.request_id) == (None, request_id)
            assert record.subject == f"timers.due.grant.{request_id}"
            fixed.set()
            name = f"{spec.durable}:{record.stream_sequence}"
            await replay(admin_js, name)
            await until(lambda: len(attempts) == 3)
            await asyncio.sleep(1.0)
    assert attempts == [request_id] * 3
    assert not [e for e in logs if e["event"] == "timer.rejected"]
    assert await pending_records(admin_js) == []
