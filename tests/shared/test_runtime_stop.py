"""A signal while a handler is still running (draining) ends `run_service` within 5 s."""

from __future__ import annotations

import asyncio
import os
import signal
import time
from datetime import UTC, datetime

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from shared.connection import make_broker
from shared.consumers import consumer
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import GrantExpired, Person
from shared.ids import new_id
from shared.permissions import ADMIN_USER
from shared.publishing import EventPublisher
from shared.runtime import STOP_SECONDS, Service, run_service
from shared.subscribing import subscribe_events
from tests.conftest import settings_for


async def test_sigterm_while_a_handler_hangs_stops_within_the_budget(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    handling = asyncio.Event()

    async def hangs(_: Envelope[GrantExpired]) -> None:
        handling.set()
        await asyncio.sleep(120)  # a call that never answers

    settings = settings_for(nats_server, ADMIN_USER)
    broker = make_broker(settings, name="t")
    subscribe_events(broker, consumer("notifier", "notifier_grant_expired"), GrantExpired, hangs)
    running = asyncio.create_task(run_service(Service("t", settings, broker)))
    expired = GrantExpired(
        request_id=new_id(),
        requester=Person(email="alice@example.com"),
        profile_id="prod",
        device_id="n292kg92CNTRL",
        attribute="custom:prodAccess",
        expired_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    )
    await EventPublisher(admin_js, source="test").publish(expired)
    await asyncio.wait_for(handling.wait(), timeout=15)
    started = time.monotonic()
    os.kill(os.getpid(), signal.SIGTERM)  # a real signal, caught by run_service's handler
    await asyncio.wait_for(running, timeout=STOP_SECONDS + 5)
    assert time.monotonic() - started < STOP_SECONDS
    assert broker.connection.is_closed  # not left open for the garbage collector
    # The message was not acked: JetStream redelivers it to the next run.
    info = await admin_js.consumer_info("ACCESS", "notifier_grant_expired")
    assert info.num_ack_pending + info.num_redelivered + info.num_pending >= 1
