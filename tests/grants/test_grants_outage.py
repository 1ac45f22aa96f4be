"""Expiry stays prompt when a due timer is lost with a dying process or nats-server.

A timer delivered to a process that dies, or to a pull request nats-server forgets
in a restart, comes back only after the consumer's ack wait (30 s). Grants re-checks
its records for due grants at start and whenever NATS is back.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from nats.js import JetStreamContext
from nats.js.errors import NotFoundError

from accessbot.natsserver import EmbeddedNats, free_port
from emulators.tailscale import TailscaleEmulator
from services.grants.domain.records import GrantStatus
from shared.connection import connect
from shared.consumers import consumer
from shared.contracts.cloudevents import decode
from shared.contracts.events import GrantExpired
from shared.contracts.subjects import Subject
from shared.publishing import EventPublisher
from tests.conftest import settings_for
from tests.grants.support import (
    ATTRIBUTE,
    approval,
    grant_record,
    grants_settings,
    owned_device,
    running,
    wait_until,
)

TIMER = consumer("grants", "grants_timer_grant")
PROMPT_SECONDS = 5.0  # issue 11: at most 5 s late once NATS (or grants) is back


async def _expired_event(js: JetStreamContext, request_id: str) -> GrantExpired | None:
    try:
        msg = await js.get_last_msg("ACCESS", Subject.GRANT_EXPIRED.value)
    except NotFoundError:
        return None
    assert msg.subject is not None
    event = decode(msg.subject, msg.headers, msg.data or b"").event
    return event if isinstance(event, GrantExpired) and event.request_id == request_id else None


async def _wait_expired(js: JetStreamContext, request_id: str, *, within: float) -> float:
    """Seconds until the grant's expiry was announced; fails after `within`."""
    started = time.monotonic()
    while await _expired_event(js, request_id) is None:
        assert time.monotonic() - started < within, f"grant not expired within {within}s"
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def test_a_due_timer_held_by_a_dead_process_does_not_delay_expiry(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    device = owned_device(emulator)
    grant = approval(device, duration=3)
    settings = grants_settings(nats_server, emulator)
    async with running(settings):
        await EventPublisher(admin_js, source="test/approvals").publish(grant)
        await wait_until(lambda: ATTRIBUTE in emulator.attributes(device["nodeId"]))
    # The process that would handle the timer is gone; the timer fires and is delivered
    # to a pull that is never answered (as to a process killed right after receiving it).
    taken = await admin_js.pull_subscribe_bind(TIMER.durable, stream=TIMER.stream)
    [held] = await taken.fetch(1, timeout=10)
    assert held.subject == f"timers.due.grant.{grant.request_id}"
    assert (await admin_js.consumer_info(TIMER.stream, TIMER.durable)).num_ack_pending == 1

    async with running(settings):
        await _wait_expired(admin_js, grant.request_id, within=PROMPT_SECONDS)

    assert emulator.attributes(device["nodeId"]) == {}
    assert (await grant_record(admin_js, grant.request_id)).status is GrantStatus.EXPIRED


async def test_nats_killed_two_seconds_before_the_end_expires_promptly_once_back(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    device = owned_device(emulator)
    grant = approval(device, duration=6)
    async with running(grants_settings(nats_server, emulator)):
        await EventPublisher(admin_js, source="test/approvals").publish(grant)
        await wait_until(lambda: ATTRIBUTE in emulator.attributes(device["nodeId"]))
        ends = (await grant_record(admin_js, grant.request_id)).expires_at
        await asyncio.sleep((ends - datetime.now(UTC)).total_seconds() - 2)
        nats_server.kill()
        await asyncio.sleep(4)
        nats_server.start()
        await _wait_expired(admin_js, grant.request_id, within=PROMPT_SECONDS)

    assert emulator.attributes(device["nodeId"]) == {}


async def test_a_timer_lost_in_a_nats_restart_is_made_up_for_on_reconnect(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    device = owned_device(emulator)
    grant = approval(device, duration=4)
    async with running(grants_settings(nats_server, emulator)):
        await EventPublisher(admin_js, source="test/approvals").publish(grant)
        await wait_until(lambda: ATTRIBUTE in emulator.attributes(device["nodeId"]))
        ends = (await grant_record(admin_js, grant.request_id)).expires_at
        await asyncio.sleep((ends - datetime.now(UTC)).total_seconds() - 2)
        nats_server.kill()
        # Back on another port first, where grants cannot reach it: the timer fires and
        # goes to a pull whose answer is lost (as with a pull forgotten in the restart).
        home = nats_server.port
        nats_server.port = free_port()
        nats_server.start()
        nc = await connect(settings_for(nats_server, "admin"), name="test-thief")
        taken = await nc.jetstream().pull_subscribe_bind(TIMER.durable, stream=TIMER.stream)
        [held] = await taken.fetch(1, timeout=10)
        assert held.subject == f"timers.due.grant.{grant.request_id}"
        await nc.close()
        nats_server.kill()
        nats_server.port = home
        nats_server.start()
        await _wait_expired(admin_js, grant.request_id, within=PROMPT_SECONDS)

    assert emulator.attributes(device["nodeId"]) == {}
