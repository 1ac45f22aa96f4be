"""Grants as separate OS processes: killed mid-apply and restarted; two replicas expiring."""

from __future__ import annotations

import asyncio
import signal
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import timedelta
from pathlib import Path

import pytest
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats, env_without_secrets
from emulators.tailscale import Fault, TailscaleEmulator
from services.grants.domain.records import GrantStatus
from shared.contracts.events import GrantApplied, GrantExpired
from shared.contracts.subjects import Subject
from shared.publishing import EventPublisher
from tests.grants.support import (
    ATTRIBUTE,
    ATTRIBUTE_PATH,
    EventTap,
    approval,
    grant_record,
    grants_env,
    owned_device,
    wait_until,
)

pytestmark = [pytest.mark.slow, pytest.mark.e2e]

Spawn = Callable[[str], asyncio.subprocess.Process]


@asynccontextmanager
async def grants_processes(
    env: dict[str, str], logs: Path
) -> AsyncIterator[Callable[[str], Awaitable[asyncio.subprocess.Process]]]:
    """Start `python -m services.grants` processes on demand; all stopped at the end."""
    started: list[asyncio.subprocess.Process] = []

    async def spawn(name: str) -> asyncio.subprocess.Process:
        log = (logs / f"grants-{name}.log").open("ab")
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "services.grants", env=env, stdout=log, stderr=log
        )
        log.close()
        started.append(proc)
        return proc

    try:
        yield spawn
    finally:
        for proc in started:
            if proc.returncode is None:
                proc.terminate()
        for proc in started:
            try:
                await asyncio.wait_for(proc.wait(), timeout=10)
            except TimeoutError:
                proc.kill()
                await proc.wait()


def process_env(server: EmbeddedNats, emulator: TailscaleEmulator, **extra: str) -> dict[str, str]:
    return {**env_without_secrets(), **grants_env(server, emulator.base_url, **extra)}


async def test_killed_right_after_the_post_and_restarted_posts_once_and_announces_once(
    nats_server: EmbeddedNats,
    admin_js: JetStreamContext,
    emulator: TailscaleEmulator,
    tmp_path: Path,
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    event = approval(device)
    # Tailscale makes the change, then answers late: the process dies before it hears back.
    emulator.inject(Fault(kind="hang_after", hang_seconds=4.0, path=ATTRIBUTE_PATH, method="POST"))
    env = process_env(nats_server, emulator, GRANTS_LEASE_SECONDS="4")
    async with grants_processes(env, tmp_path) as spawn:
        first = await spawn("first")
        await EventPublisher(admin_js, source="test/approvals").publish(event)
        await wait_until(
            lambda: ATTRIBUTE in emulator.attributes(node), timeout=20, what="the POST"
        )
        first.send_signal(signal.SIGKILL)
        await first.wait()
        assert tap.of(Subject.GRANT_APPLIED) == []
        assert (await grant_record(admin_js, event.request_id)).status is GrantStatus.APPLYING

        await spawn("second")
        [applied] = await tap.wait_for(Subject.GRANT_APPLIED, event.request_id, timeout=30)
        # The hung POST is recorded when its late answer is written; then let things settle.
        await wait_until(
            lambda: len(emulator.calls_to("POST", ATTRIBUTE_PATH)) >= 1, timeout=10, what="record"
        )
        await asyncio.sleep(1.0)

    assert len(emulator.calls_to("POST", ATTRIBUTE_PATH)) == 1
    assert len(tap.of(Subject.GRANT_APPLIED, event.request_id)) == 1
    assert isinstance(applied.event, GrantApplied)
    assert applied.event.expires_at == emulator.attributes(node)[ATTRIBUTE]["expiry"]
    assert emulator.calls_to("GET", rf"/device/{node}/attributes$")  # it looked before posting
    record = await grant_record(admin_js, event.request_id)
    assert record.status is GrantStatus.ACTIVE
    assert record.event_ids["applied"] == applied.meta.id


async def test_a_short_grant_expires_on_time_once_with_two_replicas(
    nats_server: EmbeddedNats,
    admin_js: JetStreamContext,
    emulator: TailscaleEmulator,
    tmp_path: Path,
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    event = approval(device, duration=3)
    async with grants_processes(process_env(nats_server, emulator), tmp_path) as spawn:
        await spawn("a")
        await spawn("b")
        await EventPublisher(admin_js, source="test/approvals").publish(event)
        [applied] = await tap.wait_for(Subject.GRANT_APPLIED, event.request_id, timeout=30)
        assert isinstance(applied.event, GrantApplied)
        expires_at = applied.event.expires_at
        [expired] = await tap.wait_for(Subject.GRANT_EXPIRED, event.request_id, timeout=15)
        await asyncio.sleep(2.0)  # room for a second announcement, which must not come

    assert isinstance(expired.event, GrantExpired)
    [delete] = emulator.calls_to("DELETE", ATTRIBUTE_PATH)
    assert expires_at <= delete.wallclock <= expires_at + timedelta(seconds=5)
    assert expires_at <= expired.event.expired_at <= expires_at + timedelta(seconds=5)
    assert emulator.attributes(node) == {}  # gone long before Tailscale's own 5-minute lag
    assert len(tap.of(Subject.GRANT_EXPIRED, event.request_id)) == 1
    assert (await grant_record(admin_js, event.request_id)).status is GrantStatus.EXPIRED
