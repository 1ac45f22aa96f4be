"""The permission matrix is enforced by a real nats-server, for every user."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager

import nats
import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig

from accessbot.natsserver import EmbeddedNats
from shared.consumers import consumer
from shared.contracts.subjects import Bucket, Subject
from shared.permissions import PUBLISHES, SERVICES, SIEM_USER, inbox_prefix, matrix
from tests.conftest import settings_for

VIOLATION = "permissions violation"


@asynccontextmanager
async def connected(server: EmbeddedNats, user: str) -> AsyncIterator[tuple[Client, list[str]]]:
    errors: list[str] = []

    async def on_error(exc: Exception) -> None:
        errors.append(str(exc).lower())

    settings = settings_for(server, user)
    assert settings.nats_password is not None
    nc = await nats.connect(
        server.url,
        user=user,
        password=settings.nats_password.get_secret_value(),
        inbox_prefix=inbox_prefix(user),
        error_cb=on_error,
        allow_reconnect=False,
    )
    try:
        yield nc, errors
    finally:
        await nc.close()


async def wait_for(predicate: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        if predicate():
            return True
        await asyncio.sleep(0.02)
    return predicate()


async def assert_publish_refused(nc: Client, errors: list[str], subject: str) -> None:
    errors.clear()
    await nc.publish(subject, b"{}")
    await nc.flush()
    refused = await wait_for(lambda: any(VIOLATION in e and subject.lower() in e for e in errors))
    assert refused, f"publishing {subject} was not refused; errors: {errors}"


def foreign_subjects(service: str) -> list[str]:
    return [s.value for svc, subjects in PUBLISHES.items() if svc != service for s in subjects]


@pytest.mark.parametrize("service", SERVICES)
async def test_service_may_publish_its_own_and_nothing_else(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, service: str
) -> None:
    async with connected(nats_server, service) as (nc, errors):
        js = nc.jetstream()
        own = PUBLISHES[service]
        if own:
            ack = await js.publish(own[0].value, b"{}", timeout=3)
            assert ack.stream == "ACCESS"
        else:  # the notifier publishes nothing on ACCESS; its allowed write is its bucket
            kv = await js.key_value(Bucket.SLACK_MESSAGES.value)
            assert await kv.put("probe", b"{}") > 0
        for subject in foreign_subjects(service):
            await assert_publish_refused(nc, errors, subject)
    stored = await admin_js.stream_info("ACCESS")
    assert stored.state.messages == (1 if PUBLISHES[service] else 0)


@pytest.mark.parametrize("service", [s for s in SERVICES if s != "grants"])
async def test_only_grants_writes_devices(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, service: str
) -> None:
    async with connected(nats_server, service) as (nc, errors):
        await assert_publish_refused(nc, errors, f"$KV.{Bucket.DEVICES.value}.n1")
    async with connected(nats_server, "grants") as (nc, _):
        kv = await nc.jetstream().key_value(Bucket.DEVICES.value)
        await kv.put("n1", b"{}")
    kv_admin = await admin_js.key_value(Bucket.DEVICES.value)
    assert (await kv_admin.get("n1")).value == b"{}"


async def test_intake_cannot_publish_approval_and_notifier_cannot_apply_grant(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    async with connected(nats_server, "intake") as (nc, errors):
        await assert_publish_refused(nc, errors, Subject.REQUEST_APPROVED.value)
    async with connected(nats_server, "notifier") as (nc, errors):
        await assert_publish_refused(nc, errors, Subject.GRANT_APPLIED.value)
    assert (await admin_js.stream_info("ACCESS")).state.messages == 0


async def test_service_cannot_use_another_services_consumer(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    async with connected(nats_server, "intake") as (nc, errors):
        await assert_publish_refused(nc, errors, "$JS.API.CONSUMER.MSG.NEXT.ACCESS.grants_revoke")


async def test_siem_reads_access_and_publishes_nothing(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    ack = await admin_js.publish(Subject.GRANT_EXPIRED.value, b'{"probe": true}')
    async with connected(nats_server, SIEM_USER) as (nc, errors):
        stored = await nc.jetstream().get_msg("ACCESS", seq=ack.seq)
        assert stored.data == b'{"probe": true}'
        for subject in [s.value for s in Subject] + ["$KV.devices.x", "timers.schedule.grant.x"]:
            await assert_publish_refused(nc, errors, subject)
    assert (await admin_js.stream_info("ACCESS")).state.messages == 1


def test_matrix_covers_every_subject_exactly_once() -> None:
    published = [s for subjects in PUBLISHES.values() for s in subjects]
    # Dead letters are announced by whichever consuming service gave up (test_deadletter_*).
    assert sorted(published) == sorted(set(Subject) - {Subject.DELIVERY_DEADLETTERED})
    assert set(matrix()) == {*SERVICES, SIEM_USER, "admin"}


async def _attempt(
    nc: Client, subject: str, body: Mapping[str, object] | None = None
) -> bytes | None:
    """A JetStream API request; None when the server never answered (refused by permissions)."""
    try:
        reply = await nc.request(subject, json.dumps(body or {}).encode(), timeout=1)
    except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
        return None
    return reply.data


async def test_siem_cannot_redefine_drain_or_delete_a_service_consumer(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    spec = consumer("grants", "grants_revoke")
    async with connected(nats_server, "grants") as (nc, _):
        await nc.jetstream().add_consumer(
            spec.stream,
            ConsumerConfig(
                durable_name=spec.durable,
                filter_subject=spec.filter_subject,
                ack_policy=AckPolicy.EXPLICIT,
            ),
        )
    await admin_js.publish(Subject.REVOKE_REQUESTED.value, b'{"probe": true}')

    async def grants_consumer_intact() -> None:
        info = await admin_js.consumer_info(spec.stream, spec.durable)
        assert info.config.filter_subject == spec.filter_subject
        assert (info.num_pending, info.num_ack_pending) == (1, 0)  # nothing taken from grants

    hijack = {
        "stream_name": spec.stream,
        "config": {
            "name": spec.durable,
            "filter_subject": "access.nothing",
            "ack_policy": "explicit",
            "deliver_policy": "all",
        },
    }
    api = f"$JS.API.CONSUMER.%s.{spec.stream}"
    async with connected(nats_server, SIEM_USER) as (nc, _):
        # The unnamed endpoint takes the name from the body: it would redefine the durable.
        await _attempt(nc, api % "CREATE", hijack)
        await _attempt(nc, f"{api % 'CREATE'}.{spec.durable}.access.nothing", hijack)
        await _attempt(nc, f"{api % 'CREATE'}.other", hijack)
        await grants_consumer_intact()
        await _attempt(nc, f"{api % 'MSG.NEXT'}.{spec.durable}", {"batch": 1, "no_wait": True})
        await grants_consumer_intact()
        await _attempt(nc, f"{api % 'DELETE'}.{spec.durable}")
        await grants_consumer_intact()
        # It reads stored messages by sequence instead (see test_siem_reads_access_...).
        stored = await nc.jetstream().get_msg(spec.stream, subject=spec.filter_subject)
        assert stored.data == b'{"probe": true}'
