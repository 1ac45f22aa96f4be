"""The holders of one attribute on one device: the pure rules, and a race between replicas."""

from __future__ import annotations

import asyncio
import re
import time
from datetime import UTC, datetime, timedelta

import pytest
from nats.js import JetStreamContext

from emulators.tailscale import TailscaleEmulator
from services.grants.adapters.store import holders_store
from services.grants.adapters.tailscale.client import TailscaleClient
from services.grants.domain.holders import (
    MAX_HOLDERS,
    AttributeHolders,
    Holder,
    TooManyHoldersError,
    holders_key,
    is_holders_key,
)
from services.grants.domain.posture_attributes import AttributeValue, DeviceAttributes
from services.grants.handlers.shared_attribute import SharedAttribute
from shared.ids import new_id
from tests.grants.support import ATTRIBUTE, owned_device
from tests.grants.test_grants_client import make_client

NOW = datetime(2026, 11, 30, 10, 0, tzinfo=UTC)


def _holder(minutes: int, request_id: str | None = None) -> Holder:
    return Holder(
        request_id=request_id or new_id(),
        value=True,
        expires_at=NOW + timedelta(minutes=minutes),
        comment="c",
    )


def test_the_attribute_ends_with_the_active_holder_that_ends_last() -> None:
    a, b, gone = _holder(3), _holder(1), _holder(-1)
    holders = AttributeHolders.empty("n1", ATTRIBUTE)
    assert holders.latest(NOW) is None
    holders = holders.with_holder(a).with_holder(b).with_holder(gone)
    assert holders.latest(NOW) == a
    assert holders.without(a.request_id).latest(NOW) == b
    assert holders.without(a.request_id).without(b.request_id).latest(NOW) is None, (
        "a holder past its end holds nothing"
    )
    moved = b.model_copy(update={"expires_at": NOW + timedelta(minutes=5)})
    assert holders.with_holder(moved).latest(NOW) == moved, "an extension moves a claim"


def test_a_tie_goes_to_the_earlier_request() -> None:
    first, second = (
        _holder(2, "01AAAAAAAAAAAAAAAAAAAAAAAA"),
        _holder(2, "01BBBBBBBBBBBBBBBBBBBBBBBB"),
    )
    holders = AttributeHolders.empty("n1", ATTRIBUTE).with_holder(second).with_holder(first)
    assert holders.latest(NOW) == first


def test_holders_are_bounded() -> None:
    holders = AttributeHolders.empty("n1", ATTRIBUTE)
    claims = [_holder(1) for _ in range(MAX_HOLDERS)]
    for claim in claims:
        holders = holders.with_holder(claim)
    with pytest.raises(TooManyHoldersError):
        holders.with_holder(_holder(1))
    assert holders.with_holder(claims[0]) == holders, "an existing claim may still change"


def test_keys_are_valid_kv_keys_apart_from_request_ids_and_distinct() -> None:
    keys = {
        holders_key("n292kg92CNTRL", "custom:prod_access"),
        holders_key("n292kg92CNTRL", "custom:prod:access"),
        holders_key("12345", "custom:prod_access"),
    }
    assert len(keys) == 3
    for key in keys:
        assert re.fullmatch(r"[-/_=.a-zA-Z0-9]+", key)
        assert is_holders_key(key)
    assert not is_holders_key(new_id())


class _DeleteAfter:
    """A real client whose DELETE waits until `go` is set (another replica acts meanwhile)."""

    def __init__(self, client: TailscaleClient, go: asyncio.Event) -> None:
        self._client = client
        self._go = go
        self.waiting = asyncio.Event()

    async def get_attributes(
        self, device_id: str, *, deadline: float | None = None
    ) -> DeviceAttributes:
        return await self._client.get_attributes(device_id, deadline=deadline)

    async def set_attribute(
        self,
        device_id: str,
        key: str,
        value: AttributeValue,
        *,
        expiry: datetime | None,
        comment: str | None,
        deadline: float | None = None,
    ) -> None:
        await self._client.set_attribute(
            device_id, key, value, expiry=expiry, comment=comment, deadline=deadline
        )

    async def delete_attribute(
        self, device_id: str, key: str, *, deadline: float | None = None
    ) -> bool:
        self.waiting.set()
        await self._go.wait()
        return await self._client.delete_attribute(device_id, key, deadline=deadline)


async def test_a_stale_delete_by_one_replica_is_undone_by_that_replica(
    admin_js: JetStreamContext, emulator: TailscaleEmulator
) -> None:
    node = owned_device(emulator)["nodeId"]
    kv = await admin_js.key_value("grants")
    now = datetime.now(UTC).replace(microsecond=0)
    a = Holder(request_id=new_id(), value=True, expires_at=now + timedelta(minutes=3), comment="A")
    b = Holder(request_id=new_id(), value=True, expires_at=now + timedelta(minutes=1), comment="B")
    go = asyncio.Event()
    clients = [make_client(emulator), make_client(emulator)]
    slow_api = _DeleteAfter(clients[0], go)
    replica_x = SharedAttribute(holders_store(kv), slow_api)
    replica_y = SharedAttribute(holders_store(kv), clients[1])
    deadline = time.monotonic() + 30
    try:
        await replica_x.join(
            node, ATTRIBUTE, a, previous=None, check_first=False, deadline=deadline
        )
        # X ends A: nobody else holds it yet, so X is about to DELETE...
        leaving = asyncio.create_task(replica_x.leave(node, ATTRIBUTE, a, deadline=deadline))
        await asyncio.wait_for(slow_api.waiting.wait(), timeout=10)
        # ...when Y joins B and sets it; then X's late DELETE lands.
        await replica_y.join(
            node, ATTRIBUTE, b, previous=None, check_first=False, deadline=deadline
        )
        go.set()
        keeper = await asyncio.wait_for(leaving, timeout=10)
    finally:
        for client in clients:
            await client.aclose()

    assert keeper == b, "X found out and says access continues under B"
    found = emulator.attributes(node)[ATTRIBUTE]
    assert found["expiry"] == b.expires_at, "X wrote B back after its stale DELETE"
    stored = await holders_store(kv).get(node, ATTRIBUTE)
    assert set(stored.holders.holders) == {b.request_id}
    assert stored.holders.written is not None
    assert stored.holders.written.expires_at == b.expires_at
