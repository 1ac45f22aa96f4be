"""Reading buckets without consumers (batched direct gets), as a reader service would."""

from __future__ import annotations

import pytest
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from shared import kv_reading
from shared.connection import connect
from shared.contracts.subjects import Bucket
from shared.kv_reading import changes, latest
from tests.conftest import settings_for


async def test_latest_and_changes_page_through_puts_deletes_and_purges(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(kv_reading, "BATCH", 3)  # several batches from few entries
    owner = await admin_js.key_value(Bucket.DEVICES.value)
    for n in range(5):
        await owner.put(f"n{n}", f"v{n}".encode())
    await owner.put("n0", b"v0-new")
    await owner.delete("n1")
    await owner.purge("n2")
    nc = await connect(settings_for(nats_server, "intake"), name="test-reader")
    try:
        kv = await nc.jetstream().key_value(Bucket.DEVICES.value)
        current, last = await latest(kv)
        assert {k: c.value for k, c in current.items()} == {
            "n0": b"v0-new",
            "n3": b"v3",
            "n4": b"v4",
        }
        assert last == (await admin_js.stream_info("KV_devices")).state.last_seq

        assert await changes(kv, after=last) == ([], last)
        await owner.put("n5", b"v5")
        await owner.delete("n3")
        found, newer = await changes(kv, after=last)
        assert [(c.key, c.value) for c in found] == [("n5", b"v5"), ("n3", None)]
        assert newer == found[-1].revision
    finally:
        await nc.close()
