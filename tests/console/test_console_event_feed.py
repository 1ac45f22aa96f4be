"""The events pane's feed against a real nats-server: a problem is shown while it lasts.

At start-up the console may connect before the services have created ACCESS; it says so
(not as a failure) and, once the stream is there, clears it and reads the events.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import pytest
from nats.aio.client import Client
from pydantic import SecretStr

from accessbot.natsserver import EmbeddedNats
from emulators.console import events
from emulators.console.events import NOT_YET, EventFeed, NatsLogin, follow
from shared.contracts.examples import EXAMPLES
from shared.contracts.subjects import Subject
from shared.permissions import SIEM_USER
from shared.provisioning import provision
from shared.publishing import EventPublisher
from tests.e2e.support import eventually

WAIT_SECONDS = 20.0


async def test_no_stream_yet_is_said_as_such_then_cleared_once_events_flow(
    nats_server: EmbeddedNats, admin_nc: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(events, "RETRY_SECONDS", 0.2)
    feed, stop = EventFeed(), asyncio.Event()

    def problem() -> str | None:  # read afresh each time: the follower changes it
        return feed.error

    async def reported() -> str | None:
        return problem()

    async def read() -> list[dict[str, Any]]:
        return feed.after(0)

    login = NatsLogin(nats_server.url, SIEM_USER, SecretStr(nats_server.passwords[SIEM_USER]))
    follower = asyncio.create_task(follow(feed, login, stop))
    try:
        await eventually(reported, "the feed reports the missing stream", WAIT_SECONDS)
        assert problem() == NOT_YET
        assert feed.after(0) == []

        js = admin_nc.jetstream()
        await provision(js)  # what the services do as they start
        await EventPublisher(js, source="test").publish(EXAMPLES[Subject.REQUEST_SUBMITTED])

        await eventually(read, "the event read once the stream is there", WAIT_SECONDS)
        assert problem() is None
        assert [e["event"]["type"] for e in feed.after(0)] == [
            f"io.accessbot.{Subject.REQUEST_SUBMITTED.value}"
        ]
    finally:
        stop.set()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait_for(follower, WAIT_SECONDS)
