"""Overlapping grants on one device handled by two grants processes at once."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.tailscale import TailscaleEmulator
from services.grants.domain.holders import AttributeHolders, holders_key
from shared.contracts.events import GrantApplied, GrantExpired, GrantRevoked
from shared.contracts.subjects import Subject
from shared.publishing import EventPublisher
from tests.grants.support import ATTRIBUTE, CAROL, EventTap, approval, owned_device
from tests.grants.test_grants_lifecycle import revoke
from tests.grants.test_grants_processes import grants_processes, process_env

pytestmark = [pytest.mark.slow, pytest.mark.e2e]  # runs grants as two processes


async def test_two_replicas_keep_the_attribute_until_the_last_overlapping_grant_ends(
    nats_server: EmbeddedNats,
    admin_js: JetStreamContext,
    emulator: TailscaleEmulator,
    tmp_path: Path,
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    publisher = EventPublisher(admin_js, source="test/approvals")
    longer = [approval(device, duration=d) for d in (240, 180, 120)]
    shortest = approval(device, duration=6)
    everyone = [*longer, shortest]
    async with grants_processes(process_env(nats_server, emulator), tmp_path) as spawn:
        await spawn("a")
        await spawn("b")
        # All at once, so both replicas change the same device's attribute together.
        await asyncio.gather(*(publisher.publish(e) for e in everyone))
        ends = {}
        for event in everyone:
            [applied] = await tap.wait_for(Subject.GRANT_APPLIED, event.request_id, timeout=30)
            assert isinstance(applied.event, GrantApplied)
            ends[event.request_id] = applied.event.expires_at
        assert emulator.attributes(node)[ATTRIBUTE]["expiry"] == max(ends.values())

        await asyncio.gather(*(publisher.publish(revoke(e.request_id, CAROL)) for e in longer))
        for event in longer:
            [ended] = await tap.wait_for(Subject.GRANT_REVOKED, event.request_id, timeout=30)
            assert isinstance(ended.event, GrantRevoked)
            assert ended.event.continues_under is not None, "the shortest one is still active"
        assert emulator.attributes(node)[ATTRIBUTE]["expiry"] == ends[shortest.request_id]

        [last] = await tap.wait_for(Subject.GRANT_EXPIRED, shortest.request_id, timeout=30)
        await asyncio.sleep(1.0)  # room for a late write by the other replica, which must not come

    assert isinstance(last.event, GrantExpired)
    assert last.event.continues_under is None
    assert ATTRIBUTE not in emulator.attributes(node)
    kv = await admin_js.key_value("grants")
    entry = await kv.get(holders_key(node, ATTRIBUTE))
    assert entry.value is not None
    holders = AttributeHolders.model_validate_json(entry.value)
    assert holders.holders == {}
    assert holders.written is None
