"""An idle pull consumer logs nothing: nats-py's bare fetch timeout is not an error."""

from __future__ import annotations

import asyncio
import logging

import pytest
from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from shared.connection import make_broker
from shared.consumers import consumer
from shared.contracts.events import GrantExpired
from shared.permissions import ADMIN_USER
from shared.pull_timeouts import (
    IdleTolerantConcurrentPullSubscriber,
    IdleTolerantPullSubscriber,
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
