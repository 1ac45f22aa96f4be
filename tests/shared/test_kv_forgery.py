"""A value answered into a bucket by a direct get is refused by its readers (issue 11, 7).

Permissions cannot check a request's reply subject: the notifier can store a value in
its own bucket and ask for it by direct get with `$KV.<bucket>.<key>` of another
bucket as the reply; nats-server stores the answer there. Readers of records and
device snapshots read with STREAM.MSG.GET, see the answer's `Nats-Stream`, and refuse.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pytest
from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError

from accessbot.natsserver import EmbeddedNats
from services.approvals.adapters.devices import DeviceDirectory
from services.approvals.adapters.store import request_store
from services.grants.adapters.store import grant_store
from services.grants.domain.records import GrantRecord, GrantStatus
from shared.connection import connect
from shared.contracts.events import DeviceSnapshot, Person
from shared.contracts.subjects import Bucket
from shared.kv_reading import ForgedEntryError
from tests.conftest import settings_for

MALLORY = Person(email="mallory@example.com")


async def forge(
    server: EmbeddedNats, js: JetStreamContext, bucket: Bucket, key: str, value: bytes
) -> None:
    """As the notifier: store `value` in its bucket, answer it into `bucket`/`key`."""
    nc = await connect(settings_for(server, "notifier"), name="test-notifier")
    own = Bucket.SLACK_MESSAGES.value
    try:
        await nc.jetstream().publish(f"$KV.{own}.copy", value)
        await nc.publish(
            f"$JS.API.DIRECT.GET.KV_{own}",
            f'{{"last_by_subj": "$KV.{own}.copy"}}'.encode(),
            reply=f"$KV.{bucket.value}.{key}",
        )
        await nc.flush()
    finally:
        await nc.close()
    kv = await js.key_value(bucket.value)
    for _ in range(100):  # the answer is stored asynchronously
        with contextlib.suppress(KeyNotFoundError):  # not stored yet
            if (await kv.get(key)).value == value:
                return
        await asyncio.sleep(0.05)
    pytest.fail(f"the forged answer was never stored in {bucket.value}/{key}")


def record(request_id: str) -> GrantRecord:
    now = datetime.now(UTC)
    return GrantRecord(
        request_id=request_id,
        requester=MALLORY,
        profile_id="prod",
        device_id="n1",
        attribute="custom:prodAccess",
        value=True,
        duration_seconds=3600,
        comment="forged",
        status=GrantStatus.ACTIVE,
        expires_at=now,
        updated_at=now,
    )


async def test_forged_grant_request_and_device_values_are_refused(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    await forge(nats_server, admin_js, Bucket.GRANTS, "r1", record("r1").model_dump_json().encode())
    await forge(nats_server, admin_js, Bucket.REQUESTS, "r2", b'{"forged": true}')
    device = DeviceSnapshot(node_id="n9", name="n9", hostname="n9", owner=MALLORY.email)
    await forge(nats_server, admin_js, Bucket.DEVICES, "n9", device.model_dump_json().encode())

    with pytest.raises(ForgedEntryError, match="KV_slack_messages"):
        await grant_store(await admin_js.key_value(Bucket.GRANTS.value)).load("r1")
    with pytest.raises(ForgedEntryError):
        await request_store(await admin_js.key_value(Bucket.REQUESTS.value)).load("r2")
    devices = DeviceDirectory(await admin_js.key_value(Bucket.DEVICES.value))
    assert await devices.get("n9") is None


async def test_values_the_owner_wrote_read_as_before(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    kv = await admin_js.key_value(Bucket.GRANTS.value)
    revision = await kv.put("r1", record("r1").model_dump_json().encode())
    stored = await grant_store(kv).load("r1")
    assert stored is not None
    assert (stored.record.request_id, stored.revision) == ("r1", revision)
    await kv.delete("r1")
    assert await grant_store(kv).load("r1") is None
    assert await grant_store(kv).load("no such key") is None  # not a valid key
    assert await grant_store(kv).load("absent") is None
