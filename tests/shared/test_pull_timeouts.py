"""An idle pull consumer logs nothing: nats-py's bare fetch timeout is not an error. A
fetch asks for a batch only while the consumer is behind."""

from __future__ import annotations

import asyncio
import logging

import pytest
from faststream.nats import NatsBroker
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from shared.connection import make_broker
from shared.consumers import consumer
from shared.contracts.events import GrantExpired, Message
from shared.contracts.examples import EXAMPLES
from shared.contracts.subjects import Subject
from shared.ids import new_id
from shared.permissions import ADMIN_USER
from shared.publishing import EventPublisher
from shared.pull_timeouts import (
    IdleTolerantConcurrentPullSubscriber,
    IdleTolerantPullSubscriber,
    next_batch,
)
from shared.subscribing import subscribe_events
from tests.conftest import settings_for

FETCH_TIMEOUT_SECONDS = 5.0  # PullSub(timeout=...) in shared.subscribing


def _fetch_loops(broker: NatsBroker) -> set[int]:
    """The subscribers' running tasks (a restart by FastStream's supervisor adds new ones)."""
    return {id(t) for s in broker.subscribers for t in getattr(s, "tasks", [])}


async def _nothing(_: object) -> None:
    return None


@pytest.mark.slow
async def test_an_idle_batch_consumer_outlives_the_fetch_timeout_without_errors(
    nats_server: EmbeddedNats,
    admin_js: JetStreamContext,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, consumer("notifier", "notifier_grant_expired"), GrantExpired, _nothing)
    subscribe_events(
        broker,
        consumer("grants", "grants_revoke"),
        GrantExpired,
        _nothing,
        max_workers=4,
    )
    kinds = {type(s) for s in broker.subscribers}
    assert IdleTolerantPullSubscriber in kinds
    assert IdleTolerantConcurrentPullSubscriber in kinds
    monkeypatch.setattr(logging.getLogger("faststream"), "propagate", True)
    with caplog.at_level(logging.INFO, logger="faststream"):
        async with broker:
            await broker.start()
            tasks = _fetch_loops(broker)
            assert tasks
            # Two fetch timeouts: nats-py 2.16 raises a bare TimeoutError on each.
            await asyncio.sleep(2 * FETCH_TIMEOUT_SECONDS + 1)
            after = _fetch_loops(broker)
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert errors == [], [r.getMessage() for r in errors]
    restarted = [r for r in caplog.records if "raised an exception" in r.getMessage()]
    assert restarted == []
    assert after == tasks  # the same fetch loops, never restarted


def _expired() -> Message:
    return EXAMPLES[Subject.GRANT_EXPIRED].model_copy(update={"request_id": new_id()})


def _delivered(pending: int) -> Msg:
    """A JetStream delivery as nats-py makes it: its metadata is in the reply subject
    ($JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<ns>.<pending>)."""
    reply = f"$JS.ACK.ACCESS.notifier_grant_expired.1.7.7.1764500000000000000.{pending}"
    return Msg(_client=None, subject="access.grant.expired", reply=reply)  # type: ignore[arg-type]


def test_a_batch_is_asked_for_only_while_more_are_pending() -> None:
    assert next_batch([_delivered(0), _delivered(12)], 16) == 16  # the last one counts
    assert next_batch([_delivered(12), _delivered(0)], 16) == 1
    assert next_batch([_delivered(1)], 16) == 16


def test_one_is_asked_for_when_nothing_came_or_a_batch_is_one() -> None:
    assert next_batch([], 16) == 1  # idle: the next message alone
    assert next_batch([_delivered(40)], 1) == 1


def test_a_message_without_jetstream_metadata_keeps_the_configured_batch() -> None:
    plain = Msg(_client=None, subject="access.grant.expired", reply="_INBOX.x")  # type: ignore[arg-type]
    assert next_batch([plain], 16) == 16


async def test_a_backlog_then_a_trickle_are_each_handled_once_in_order(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    """Batches while behind, one at a time once caught up, and back: nothing lost or doubled."""
    handled: list[str] = []
    expected: list[str] = []
    caught_up = asyncio.Event()  # everything published so far was handled

    async def record(envelope: object) -> None:
        handled.append(envelope.event.request_id)  # type: ignore[attr-defined]
        if len(handled) == len(expected):
            caught_up.set()

    publisher = EventPublisher(admin_js, source="test")

    async def publish() -> None:
        event = _expired()
        expected.append(event.request_id)
        caught_up.clear()
        await publisher.publish(event)

    for _ in range(40):  # stored before the subscriber starts: fetched in batches
        await publish()
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, consumer("notifier", "notifier_grant_expired"), GrantExpired, record)
    async with broker:
        await broker.start()
        for _ in range(10):  # then one at a time, each after the last was handled
            await asyncio.wait_for(caught_up.wait(), timeout=20)
            await publish()
        for _ in range(30):  # and a burst
            await publish()
        await asyncio.wait_for(caught_up.wait(), timeout=20)
        await asyncio.sleep(0.5)  # nothing comes twice
    assert handled == expected
