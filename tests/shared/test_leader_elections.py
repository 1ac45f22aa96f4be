"""Riding out a stream without a leader (a cluster electing one): publishes with patience
and start-up steps are tried again, for a bounded time."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest
from nats.aio.client import Client
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import NoStreamResponseError

from shared.contracts.events import GrantExpired, Person
from shared.contracts.subjects import ACCESS_STREAM
from shared.ids import new_id
from shared.provisioning import access_stream_config
from shared.publishing import EventPublisher
from shared.runtime import while_jetstream_busy


def _event() -> GrantExpired:
    return GrantExpired(
        request_id=new_id(),
        requester=Person(email="alice@example.com"),
        profile_id="prod",
        device_id="n292kg92CNTRL",
        attribute="custom:prodAccess",
        expired_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    )


async def test_a_publish_with_patience_lands_once_the_stream_answers(admin_nc: Client) -> None:
    # No ACCESS stream yet: nobody answers the publish, as while a leader is elected.
    js = admin_nc.jetstream()
    publisher = EventPublisher(js, source="test", timeout=0.5)
    with pytest.raises(NoStreamResponseError):
        await publisher.publish(_event())

    async def stream_comes_back() -> None:
        await asyncio.sleep(0.8)
        await js.add_stream(access_stream_config(max_age_days=1, replicas=1))

    back = asyncio.create_task(stream_comes_back())
    ack = await publisher.publish(_event(), event_id="01KCLUSTERPATIENCE000000001", patience=5.0)
    await back
    assert ack.stream == ACCESS_STREAM
    assert (await js.stream_info(ACCESS_STREAM)).state.messages == 1


async def test_patience_is_bounded(admin_nc: Client) -> None:
    publisher = EventPublisher(admin_nc.jetstream(), source="test", timeout=0.2)
    started = asyncio.get_running_loop().time()
    with pytest.raises(NoStreamResponseError):
        await publisher.publish(_event(), patience=1.0)
    assert asyncio.get_running_loop().time() - started < 2.0


async def test_a_busy_start_up_step_is_tried_again_then_given_up() -> None:
    calls = 0

    async def busy_twice() -> str:
        nonlocal calls
        calls += 1
        if calls <= 2:
            raise NatsTimeoutError
        return "provisioned"

    assert await while_jetstream_busy("provision", busy_twice, wait=0.01) == "provisioned"
    assert calls == 3

    async def always_busy() -> str:
        raise NatsTimeoutError

    with pytest.raises(NatsTimeoutError):
        await while_jetstream_busy("provision", always_busy, attempts=3, wait=0.01)


async def test_other_errors_are_not_retried() -> None:
    calls = 0

    async def broken() -> None:
        nonlocal calls
        calls += 1
        raise ValueError("a real bug")

    with pytest.raises(ValueError, match="a real bug"):
        await while_jetstream_busy("provision", broken, wait=0.01)
    assert calls == 1
