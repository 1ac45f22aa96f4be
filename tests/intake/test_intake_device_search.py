"""Device search over a 10,000-device inventory in KV `devices`, through Slack."""

from __future__ import annotations

import random
import time
from datetime import UTC, datetime, timedelta

import pytest
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.slack import SlackEmulator
from shared.contracts.events import DeviceSnapshot
from shared.slack_ids import ActionId
from tests.intake.conftest import ALICE, ERIN, eventually, put_devices, start_intake

pytestmark = pytest.mark.slow

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def inventory(count: int) -> list[DeviceSnapshot]:
    """`count` devices of 3,000 people; Erin owns a few, one of them tagged."""
    rng = random.Random(5)
    devices = []
    for i in range(count):
        owner = f"user{rng.randrange(3000)}@example.com"
        devices.append(
            DeviceSnapshot(
                node_id=f"n{i:05}CNTRL",
                name=f"host-{i:05}.tail1234.ts.net",
                hostname=f"host-{i:05}",
                owner=owner,
                os=rng.choice(["linux", "macOS", "windows"]),
                addresses=[f"100.{64 + i // 65536}.{(i // 256) % 256}.{i % 256}"],
                last_seen=NOW - timedelta(minutes=rng.randrange(50000)),
                connected_to_control=rng.random() < 0.3,
            )
        )
    for i, node in enumerate((17, 4242, 9001, 9999)):
        devices[node] = devices[node].model_copy(
            update={
                "owner": "erin@example.com",
                "connected_to_control": i == 2,
                "last_seen": NOW - timedelta(hours=i),
                "tags": ["tag:ci"] if i == 3 else [],
            }
        )
    return devices


async def test_search_over_10000_devices(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: SlackEmulator
) -> None:
    await put_devices(admin_js, inventory(10_000))
    intake = await start_intake(nats_server, emulator, admin_js, "socket")
    try:
        assert await intake.service.ready_checks["devices"]()
        driver = emulator.driver

        view = await intake.open_request_form(ERIN, "prod")  # own devices only
        answer = await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "")
        [own] = answer["option_groups"]
        assert own["label"]["text"] == "Your devices"
        # connected first, then most recently seen; the tagged one is not Erin's to ask for
        assert [o["value"] for o in own["options"]] == ["n09001CNTRL", "n00017CNTRL", "n04242CNTRL"]

        await intake.choose_profile(ERIN, "staging", view)  # any device
        started = time.perf_counter()
        answer = await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "")
        elapsed = time.perf_counter() - started
        groups = {g["label"]["text"]: g["options"] for g in answer["option_groups"]}
        assert list(groups) == ["Your devices", "All devices"]
        assert len(groups["Your devices"]) + len(groups["All devices"]) == 100
        assert elapsed < 0.5  # a round trip through Slack's emulator, far inside 3 s

        by_ip = await driver.type_in_external_select(
            ERIN.id, ActionId.DEVICE_SELECT.value, "100.64.35."
        )
        values = [o["value"] for g in by_ip["option_groups"] for o in g["options"]]
        assert values
        assert all(35 * 256 <= int(v[1:6]) < 36 * 256 for v in values)
        assert values[0] == "n09001CNTRL"  # her own device still comes first

        # Alice owns none of these: for prod she is offered nothing, never someone else's.
        await intake.open_request_form(ALICE, "prod")
        alice = await driver.type_in_external_select(ALICE.id, ActionId.DEVICE_SELECT.value, "host")
        assert alice == {"options": []}

        # A device grants adds now shows up without a restart.
        fresh = DeviceSnapshot(
            node_id="nFreshCNTRL",
            name="alice-new.tail1234.ts.net",
            hostname="alice-new",
            owner="alice@example.com",
            connected_to_control=True,
        )
        await put_devices(admin_js, [fresh])

        async def offered() -> bool:
            answer = await driver.type_in_external_select(
                ALICE.id, ActionId.DEVICE_SELECT.value, "new"
            )
            return [o["value"] for g in answer.get("option_groups", []) for o in g["options"]] == [
                "nFreshCNTRL"
            ]

        assert await eventually(offered)
        acks = [a.latency for a in emulator.acks if a.payload_type == "block_suggestion"]
        assert acks
        assert max(a for a in acks if a is not None) < 0.5
    finally:
        await intake.service.stop()
