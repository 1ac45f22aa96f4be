"""Intake follows KV `devices` by polling direct gets (no consumer), as the intake user."""

from __future__ import annotations

import asyncio

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


async def test_the_index_loads_then_follows_puts_and_deletes(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    kv = await admin_js.key_value(Bucket.DEVICES.value)
    await kv.put("n1", snapshot("n1"))
    await kv.put("n2", snapshot("n2"))
    await kv.delete("n2")
    nc = await connect(settings_for(nats_server, "intake"), name="test-intake")
    index = DeviceIndex()
    watch = DeviceWatch(index, poll_seconds=0.05)
    watch.start(nc.jetstream())
    try:
        await asyncio.wait_for(watch.loaded.wait(), timeout=5)
        assert index.node_ids() == {"n1"}
        await kv.put("n3", snapshot("n3"))
        await kv.delete("n1")
        for _ in range(100):
            if index.node_ids() == {"n3"}:
                break
            await asyncio.sleep(0.05)
        assert index.node_ids() == {"n3"}
    finally:
        await watch.stop()
        await nc.close()
