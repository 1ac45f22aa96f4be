"""Dead letters under the permission matrix, enforced by a real nats-server: each service
records only its own consumers' dead letters, and only the admin replays."""

from __future__ import annotations

import asyncio

import pytest
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from shared.connection import make_broker
from shared.consumers import (
    CONSUMERS,
    advisory_consumer,
    consumers_of,
    deadletter_sources,
    replay_consumer,
)
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import GrantExpired
from shared.contracts.subjects import (
    DEADLETTER_STREAM,
    Subject,
    deadletter_record_subject,
    deadletter_replay_subject,
)
from shared.permissions import SERVICES, SIEM_USER
from shared.subscribing import subscribe_events
from tests.conftest import settings_for
from tests.shared.test_permissions import assert_publish_refused, connected

CONSUMING = [s for s in SERVICES if consumers_of(s)]


@pytest.mark.parametrize("service", CONSUMING)
async def test_a_service_records_dead_letters_of_its_own_consumers_only(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, service: str
) -> None:
    own = consumers_of(service)[0]
    async with connected(nats_server, service) as (nc, errors):
        js = nc.jetstream()
        ack = await js.publish(deadletter_record_subject(own.durable, 1), b"{}", timeout=3)
        assert ack.stream == DEADLETTER_STREAM
        for other in CONSUMERS:
            if other.service != service:
                subject = deadletter_record_subject(other.durable, 1)
                await assert_publish_refused(nc, errors, subject)
        # Nobody but the admin re-delivers: not even to the service's own consumer.
        await assert_publish_refused(nc, errors, deadletter_replay_subject(own.durable))
    assert (await admin_js.stream_info(DEADLETTER_STREAM)).state.messages == 1


@pytest.mark.parametrize("user", [*SERVICES, SIEM_USER])
async def test_only_consuming_services_announce_and_nobody_but_admin_replays(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, user: str
) -> None:
    async with connected(nats_server, user) as (nc, errors):
        if user not in CONSUMING:
            await assert_publish_refused(nc, errors, Subject.DELIVERY_DEADLETTERED.value)
        for spec in CONSUMERS:
            await assert_publish_refused(nc, errors, deadletter_replay_subject(spec.durable))
    async with connected(nats_server, "admin") as (nc, _):
        ack = await nc.jetstream().publish(
            deadletter_replay_subject(CONSUMERS[0].durable), b"{}", timeout=3
        )
        assert ack.stream == DEADLETTER_STREAM


@pytest.mark.parametrize("service", CONSUMING)
async def test_a_service_creates_its_consumers_replays_and_advisory_consumer(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, service: str
) -> None:
    """As its own NATS user, with max_deliver applied to every one."""

    async def handler(env: Envelope[GrantExpired]) -> None:
        return None

    spec = consumers_of(service)[0]
    broker = make_broker(settings_for(nats_server, service), name="t")
    subscribe_events(broker, spec, GrantExpired, handler)
    async with broker:
        await broker.start()
        await asyncio.sleep(0.2)
    for wanted in (spec, replay_consumer(spec), advisory_consumer(service)):
        info = await admin_js.consumer_info(wanted.stream, wanted.durable)
        assert info.config.max_deliver == wanted.max_deliver
    assert replay_consumer(spec) in deadletter_sources(service)
