"""No user can have the server push a stream into another user's inbox (issue 11, section 7).

A consumer-create request names its delivery subject in the body, out of reach of
subject permissions. So no user but admin may create a consumer other than its own
durable pull consumers (which the server refuses to turn into push ones); buckets are
read with direct gets and ACCESS by sequence. Tried as every user, on every stream,
through every create endpoint, against a real nats-server.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig
from nats.js.errors import APIError

from accessbot.natsserver import EmbeddedNats
from shared.consumers import (
    CONSUMERS,
    ConsumerSpec,
    advisory_consumer,
    consumers_of,
    deadletter_sources,
)
from shared.contracts.subjects import (
    ACCESS_STREAM,
    DEADLETTER_STREAM,
    TIMERS_STREAM,
    Bucket,
    Subject,
)
from shared.kv_reading import latest
from shared.permissions import ADMIN_USER, SIEM_USER, USERS, inbox_prefix
from tests.conftest import settings_for

STREAMS = (ACCESS_STREAM, TIMERS_STREAM, DEADLETTER_STREAM, *(f"KV_{b.value}" for b in Bucket))
ATTACKERS = [u for u in USERS if u != ADMIN_USER]


@asynccontextmanager
async def connected(server: EmbeddedNats, user: str) -> AsyncIterator[Client]:
    settings = settings_for(server, user)
    assert settings.nats_password is not None

    async def quiet(_: Exception) -> None:  # refusals are expected here
        return None

    nc = await nats.connect(
        server.url,
        user=user,
        password=settings.nats_password.get_secret_value(),
        inbox_prefix=inbox_prefix(user),
        error_cb=quiet,
        allow_reconnect=False,
    )
    try:
        yield nc
    finally:
        await nc.close()


def owned(user: str) -> list[ConsumerSpec]:
    """Every durable a user may create: its consumers, their replays, its advisories."""
    if not consumers_of(user):
        return []
    return [*deadletter_sources(user), advisory_consumer(user)]


async def _create_durables(server: EmbeddedNats) -> None:
    """Each service's durables, created as that service (as at its start): pull consumers."""
    for service in {spec.service for spec in CONSUMERS}:
        async with connected(server, service) as nc:
            for spec in owned(service):
                await nc.jetstream().add_consumer(
                    spec.stream,
                    ConsumerConfig(
                        name=spec.durable,
                        durable_name=spec.durable,
                        filter_subject=spec.filter_subject,
                        ack_policy=AckPolicy.EXPLICIT,
                    ),
                )


async def _seed(js: JetStreamContext) -> None:
    await js.publish(Subject.GRANT_EXPIRED.value, b'{"probe": "access"}')
    for bucket in Bucket:
        await (await js.key_value(bucket.value)).put("probe", b'{"probe": "kv"}')


async def _consumer_names(js: JetStreamContext, stream: str) -> list[str]:
    return sorted(str(info.name) for info in await js.consumers_info(stream))


async def _answer(nc: Client, subject: str, body: dict[str, object]) -> dict[str, object] | None:
    """The JetStream API's answer; None when permissions refused the request (no answer)."""
    try:
        reply = await nc.request(subject, json.dumps(body).encode(), timeout=1)
    except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
        return None
    answer: dict[str, object] = json.loads(reply.data)
    return answer


def _attempts(user: str, stream: str, deliver: str) -> list[tuple[str, dict[str, object]]]:
    """Every create endpoint, with new names and with the user's own durable names."""

    def body(name: str | None) -> dict[str, object]:
        config: dict[str, object] = {
            "deliver_subject": deliver,
            "deliver_policy": "all",
            "ack_policy": "none",
        }
        if name is not None:
            config |= {"name": name, "durable_name": name}
        return {"stream_name": stream, "config": config}

    api = f"$JS.API.CONSUMER.%s.{stream}"
    tries = [
        (api % "CREATE", body(None)),
        (f"{api % 'CREATE'}.stolen", body("stolen")),
        (f"{api % 'CREATE'}.stolen.{Subject.GRANT_EXPIRED.value}", body("stolen")),
        (f"{api % 'DURABLE.CREATE'}.stolen", body("stolen")),
    ]
    for spec in owned(user):
        if spec.stream == stream:
            own = body(spec.durable)
            tries += [
                (f"{api % 'CREATE'}.{spec.durable}", own),
                (f"{api % 'DURABLE.CREATE'}.{spec.durable}", own),
            ]
            if not {"*", ">"} & set(spec.filter_subject):  # a wildcard cannot be published to
                tries.append((f"{api % 'CREATE'}.{spec.durable}.{spec.filter_subject}", own))
    return tries


@pytest.mark.parametrize("attacker", ATTACKERS)
async def test_no_user_can_push_a_stream_into_another_users_inbox(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, attacker: str
) -> None:
    await _create_durables(nats_server)
    await _seed(admin_js)
    before = {s: await _consumer_names(admin_js, s) for s in STREAMS}
    victim = next(u for u in ATTACKERS if u != attacker)
    stolen = f"{inbox_prefix(victim)}.stolen"
    received: list[Msg] = []
    async with connected(nats_server, victim) as victim_nc:

        async def collect(msg: Msg) -> None:
            received.append(msg)

        await victim_nc.subscribe(stolen, cb=collect)
        await victim_nc.flush()
        async with connected(nats_server, attacker) as nc:
            own_account: list[Msg] = []  # the same subject inside the attacker's account

            async def collect_own(msg: Msg) -> None:
                own_account.append(msg)

            if attacker == SIEM_USER:
                await nc.subscribe(stolen, cb=collect_own)
            tries = [t for stream in STREAMS for t in _attempts(attacker, stream, stolen)]
            answers = await asyncio.gather(*(_answer(nc, subject, body) for subject, body in tries))
            created = [
                (s, a) for (s, _), a in zip(tries, answers, strict=True) if a and "error" not in a
            ]
            if attacker == SIEM_USER:
                # The siem user may create consumers, on its own copy of ACCESS in the
                # SIEM account: they push there (seen below), never into ACCESSBOT.
                assert {a["stream_name"] for _, a in created} == {ACCESS_STREAM}
            else:
                assert created == [], f"{attacker} created consumers"
            await asyncio.sleep(0.5)  # what a push consumer would have delivered by now
            assert bool(own_account) == (attacker == SIEM_USER)

    assert received == []
    after = {s: await _consumer_names(admin_js, s) for s in STREAMS}
    assert after == before


@pytest.mark.parametrize("user", ["intake", "approvals", "grants"])
async def test_services_read_buckets_without_consumers_and_cannot_watch(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, user: str
) -> None:
    await _seed(admin_js)
    async with connected(nats_server, user) as nc:
        devices = await nc.jetstream().key_value(Bucket.DEVICES.value)
        current, last = await latest(devices)
        assert {k: c.value for k, c in current.items()} == {"probe": b'{"probe": "kv"}'}
        assert last == current["probe"].revision
        with pytest.raises((nats.errors.TimeoutError, APIError)):
            await devices.watchall()  # a push consumer: refused
