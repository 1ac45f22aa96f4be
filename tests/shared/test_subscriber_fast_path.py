"""A delivery reaches its handler without FastDepends' worker-thread hop."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import anyio.to_thread
import pytest
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from shared.connection import make_broker
from shared.consumers import consumer
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import RequestApproved
from shared.contracts.examples import EXAMPLES
from shared.contracts.subjects import Subject
from shared.permissions import ADMIN_USER
from shared.publishing import EventPublisher
from shared.subscribing import subscribe_events
from tests.conftest import settings_for


async def test_an_event_is_handled_without_a_worker_thread(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    # FastDepends used to inject the NatsMessage from its context through
    # anyio.to_thread.run_sync, once per message: a thread hop for nothing.
    hops: list[Callable[..., Any]] = []
    real_run_sync = anyio.to_thread.run_sync

    async def counted(func: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        hops.append(func)
        return await real_run_sync(func, *args, **kwargs)

    monkeypatch.setattr(anyio.to_thread, "run_sync", counted)
    event = EXAMPLES[Subject.REQUEST_APPROVED]
    assert isinstance(event, RequestApproved)
    await EventPublisher(admin_js, source="test").publish(event)
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    handled: asyncio.Queue[Envelope[RequestApproved]] = asyncio.Queue()
    subscribe_events(broker, consumer("grants", "grants_approved"), RequestApproved, handled.put)
    await broker.start()
    try:
        envelope = await asyncio.wait_for(handled.get(), 10)
    finally:
        await broker.stop()
    assert envelope.event == event
    assert hops == []
