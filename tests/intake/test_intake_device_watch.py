"""Intake follows KV `devices` by polling direct gets (no consumer), as the intake user."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from services.intake.adapters.device_watch import DeviceWatch
from services.intake.domain.device_index import DeviceIndex
from shared.connection import connect
from shared.contracts.events import DeviceSnapshot
from shared.contracts.subjects import Bucket
from tests.conftest import settings_for


def snapshot(node_id: str) -> bytes:
    device = DeviceSnapshot(
        node_id=node_id, name=f"{node_id}.ts.net", hostname=node_id, owner="dave@example.com"
    )
    return device.model_dump_json().encode()


@asynccontextmanager
async def watched(nats_server: EmbeddedNats) -> AsyncIterator[DeviceIndex]:
    """An index the watch has loaded from KV `devices` (as the intake user), following it."""
    nc = await connect(settings_for(nats_server, "intake"), name="test-intake")
    index = DeviceIndex()
    watch = DeviceWatch(index, poll_seconds=0.05)
    watch.start(nc.jetstream())
    try:
        await asyncio.wait_for(watch.loaded.wait(), timeout=5)
        yield index
    finally:
        await watch.stop()
        await nc.close()


async def test_the_index_loads_then_follows_puts_and_deletes(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    kv = await admin_js.key_value(Bucket.DEVICES.value)
    await kv.put("n1", snapshot("n1"))
    await kv.put("n2", snapshot("n2"))
    await kv.delete("n2")
    async with watched(nats_server) as index:
        assert index.node_ids() == {"n1"}
        await kv.put("n3", snapshot("n3"))
        await kv.delete("n1")
        for _ in range(100):
            if index.node_ids() == {"n3"}:
                break
            await asyncio.sleep(0.05)
        assert index.node_ids() == {"n3"}


async def test_followed_devices_share_one_fields_set_and_read_as_before(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    kv = await admin_js.key_value(Bucket.DEVICES.value)
    for node_id in ("n1", "n2", "n3"):
        await kv.put(node_id, snapshot(node_id))
    async with watched(nats_server) as index:
        held = [index.get(node_id) for node_id in ("n1", "n2", "n3")]
    devices = [d for d in held if d is not None]
    assert len(devices) == 3
    # one set object for the three (pydantic keeps one per instance: 728 bytes each)
    assert len({id(d.__pydantic_fields_set__) for d in devices}) == 1
    for device in devices:
        fresh = DeviceSnapshot.model_validate_json(snapshot(device.node_id))
        assert device == fresh
        assert device.model_fields_set == fresh.model_fields_set
        assert device.model_dump(exclude_unset=True) == fresh.model_dump(exclude_unset=True)
    # a copy with a change gets a set of its own; the shared one stays as it was
    shared = devices[1].__pydantic_fields_set__
    before = set(shared)
    renamed = devices[0].model_copy(update={"os": "linux"})
    assert renamed.os == "linux"
    assert renamed.__pydantic_fields_set__ is not shared
    assert shared == before
