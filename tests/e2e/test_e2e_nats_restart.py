"""End to end: the NATS server crashes and comes back while the four services run.

One server (docker compose's single-machine shape) killed as a crash would kill it and
started again on the same store: every service reconnects by itself, and what it
consumes, watches and writes works as before, with no service restarted.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from accessbot.harness import Harness
from accessbot.natsserver import EmbeddedNats
from accessbot.scenario import press_in_dm
from shared.contracts.events import GrantApplied
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId, CallbackId
from tests.e2e.support import (
    BOB,
    DANA,
    TIMEOUT,
    eventually,
    one_event,
    own_devices,
    running_harness,
    submit,
    uid,
    wait_for_dm,
)

INVENTORY_SECONDS = 1.0
OUTAGE_SECONDS = 3.0


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """Grants syncs the device inventory every second (default 5 minutes)."""
    grants_env = {"GRANTS_INVENTORY_INTERVAL_SECONDS": str(INVENTORY_SECONDS)}
    async with running_harness(tmp_path, extra_env={"grants": grants_env}) as running:
        yield running


async def _granted(h: Harness, device_id: str, reason: str) -> None:
    """Dana asks for prod on `device_id`, Bob approves, the attribute is set, Dana is told."""
    rid = await submit(h, DANA, "prod", reason=reason, device_id=device_id)
    await h.wait_for_event(Subject.APPROVAL_REQUESTED.value, rid)
    await wait_for_dm(h, BOB, rid, "asks for")
    await press_in_dm(h.slack, uid(BOB), ActionId.APPROVE, rid, timeout=TIMEOUT)
    grant = (await one_event(h, Subject.GRANT_APPLIED, rid)).event
    assert isinstance(grant, GrantApplied)
    assert h.tailscale.attributes(device_id)["custom:prodAccess"]["value"] is True
    await wait_for_dm(h, DANA, rid, r"Access granted")


async def test_a_nats_crash_and_restart_needs_no_service_restart(harness: Harness) -> None:
    h = harness
    assert isinstance(h.nats, EmbeddedNats)
    first, second = own_devices(h, DANA)[:2]
    await _granted(h, first, "Before the crash")
    pids = {name: s.process.pid for name, s in h.services.items() if s.process is not None}

    h.nats.kill()
    await asyncio.sleep(OUTAGE_SECONDS)  # every client notices and goes through its reconnect loop
    h.nats.start()  # same port, same store

    # A request filed after it goes through every service: consumers, KV, timers, Slack.
    await _granted(h, second, "After the crash")
    # Grants' inventory sync writes a new device to KV; intake's watch offers it.
    node_id = "nDanaAfterCrashCNTRL"
    template = h.tailscale.device(first)
    assert template is not None
    h.tailscale.add_device(
        {
            **template,
            "id": "9990001",
            "nodeId": node_id,
            "name": "dana-after-crash.tail1234.ts.net",
            "hostname": "dana-after-crash",
        }
    )

    driver = h.slack.driver
    await driver.press_shortcut(uid(DANA), CallbackId.REQUEST_SHORTCUT)
    view = await driver.wait_for_view(uid(DANA), callback_id=CallbackId.REQUEST_MODAL)
    await driver.select(uid(DANA), ActionId.PROFILE_SELECT, "prod")
    await driver.wait_for_view(uid(DANA), newer_than=view)

    async def offered() -> bool:
        answer = await driver.type_in_external_select(
            uid(DANA), ActionId.DEVICE_SELECT, "dana-after-crash"
        )
        groups = (answer or {}).get("option_groups") or []
        return any(o["value"] == node_id for g in groups for o in g["options"])

    assert await eventually(offered, "the device added after the crash in Dana's search")
    still = {name: s.process.pid for name, s in h.services.items() if s.process is not None}
    assert still == pids  # nobody was restarted
    assert all(s.process is not None and s.process.returncode is None for s in h.services.values())
