"""Past one machine (issue 16): a three-node NATS cluster, everything at R3, the four
services as two processes each connected with all three URLs, and nodes and service
replicas lost mid-flow.

One system for the module (starting it costs ~10 s of the two cores); each test files
its own requests on devices of its own and looks only at those, and leaves every node
and replica running again.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
import pytest_asyncio

from accessbot.harness import Harness, replica_key, start_harness
from accessbot.natscluster import step_down, stream_leader
from shared.contracts.events import ApprovalRequested, GrantApplied, GrantExpired, RequestExpired
from shared.contracts.subjects import ACCESS_STREAM, TIMERS_STREAM, Subject
from shared.permissions import SERVICES
from tests.cluster.support import (
    DevicePool,
    approve_all,
    cluster_of,
    counts,
    duplicated_messages,
    file_many,
    posted_about,
    tailscale_changes,
    wait_all,
)
from tests.e2e.support import PROFILES_PATH, one_event, submit

pytestmark = [pytest.mark.cluster, pytest.mark.e2e, pytest.mark.asyncio(loop_scope="module")]

# Each flow: the request, the approver's DM, the requester's DM and the audit thread.
FLOW_TIMEOUT = 90.0
NODE_DOWN_SECONDS = 60.0


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    running = await start_harness(
        tmp_path_factory.mktemp("cluster"),
        profiles_path=PROFILES_PATH,
        # The tailnet's devices are spread over every sandbox person (group members and
        # fallback approvers included); the requesters need one per flow (DevicePool).
        devices=180,
        cluster=True,
        replicas=2,
        # Slack's per-channel posting limit (about one a second) would make the audit
        # channel the bottleneck of a burst; it is tested in tests/notifier, not here.
        slack_options={"rate_limits": {"*": None}},
    )
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture(scope="module")
def pool(harness: Harness) -> DevicePool:
    return DevicePool(harness)


async def assert_each_applied_and_expired_once(harness: Harness, rids: list[str]) -> None:
    """Every request: one grant.applied, one grant.expired (terminal), one attribute POST,
    one DELETE, and no message Slack shows twice."""
    applied = await wait_all(harness, Subject.GRANT_APPLIED, rids, timeout=FLOW_TIMEOUT)
    expired = await wait_all(harness, Subject.GRANT_EXPIRED, rids, timeout=FLOW_TIMEOUT)
    await asyncio.sleep(1.0)  # a late duplicate would show by now
    applied = await counts(harness, Subject.GRANT_APPLIED, rids)
    expired = await counts(harness, Subject.GRANT_EXPIRED, rids)
    assert {r: applied[r] for r in rids} == dict.fromkeys(rids, 1)
    assert {r: expired[r] for r in rids} == dict.fromkeys(rids, 1)
    assert {r: tailscale_changes(harness, "POST", r) for r in rids} == dict.fromkeys(rids, 1)
    assert {r: tailscale_changes(harness, "DELETE", r) for r in rids} == dict.fromkeys(rids, 1)
    assert duplicated_messages(harness, rids) == []


async def test_burst_through_meta_and_access_leader_failover(
    harness: Harness, pool: DevicePool
) -> None:
    cluster = cluster_of(harness)
    admin = harness.admin
    assert admin is not None
    first = await file_many(harness, pool, 6)

    # The meta leader dies (SIGKILL) while more requests are filed and the first approved.
    meta = await cluster.meta_leader()
    assert meta is not None
    cluster.kill_node(meta)
    try:
        second, _ = await asyncio.gather(file_many(harness, pool, 6), approve_all(harness, first))
        assert await cluster.wait_for("meta", cluster.meta_leader, unlike=meta) != meta
    finally:
        await asyncio.to_thread(cluster.start_node, meta)

    # Then the node leading ACCESS dies while the rest are approved.
    access = await stream_leader(admin, ACCESS_STREAM)
    assert access is not None
    cluster.kill_node(access)
    try:
        await approve_all(harness, second)
    finally:
        await asyncio.to_thread(cluster.start_node, access)
    new_access = await cluster.wait_for(
        "ACCESS", lambda: stream_leader(admin, ACCESS_STREAM), unlike=None
    )
    assert new_access in {n.name for n in cluster.nodes}

    await assert_each_applied_and_expired_once(harness, first + second)


async def test_expiry_on_time_across_a_timers_leader_change(
    harness: Harness, pool: DevicePool
) -> None:
    cluster = cluster_of(harness)
    admin = harness.admin
    assert admin is not None
    # A grant (4 s) and a pending request (3 s TTL) are scheduled on TIMERS ...
    [granted] = await file_many(harness, pool, 1)
    await approve_all(harness, [granted])
    grant = (await one_event(harness, Subject.GRANT_APPLIED, granted)).event
    assert isinstance(grant, GrantApplied)
    pending = await submit(
        harness, "carol@example.com", "pending", device_id=pool.take("carol@example.com")
    )
    await one_event(harness, Subject.APPROVAL_REQUESTED, pending)

    # ... then TIMERS changes leader before either fires (the hand-over of a rolling
    # restart; after a crash the schedules wait out the election: docs/architecture.md).
    timers = await stream_leader(admin, TIMERS_STREAM)
    assert timers is not None
    await step_down(admin, TIMERS_STREAM)
    new_leader = await cluster.wait_for(
        "TIMERS", lambda: stream_leader(admin, TIMERS_STREAM), unlike=timers
    )
    assert new_leader != timers

    expired = (await one_event(harness, Subject.GRANT_EXPIRED, granted, timeout=30)).event
    assert isinstance(expired, GrantExpired)
    assert timedelta(0) <= expired.expired_at - grant.expires_at <= timedelta(seconds=5)
    lapsed = (await one_event(harness, Subject.REQUEST_EXPIRED, pending, timeout=30)).event
    assert isinstance(lapsed, RequestExpired)
    asked = (await one_event(harness, Subject.APPROVAL_REQUESTED, pending)).event
    assert isinstance(asked, ApprovalRequested)
    assert timedelta(0) <= lapsed.expired_at - asked.expires_at <= timedelta(seconds=5)

    await asyncio.sleep(2.0)  # both replicas of approvals and grants had their chance
    assert (await counts(harness, Subject.GRANT_EXPIRED, [granted]))[granted] == 1
    assert (await counts(harness, Subject.REQUEST_EXPIRED, [pending]))[pending] == 1
    assert tailscale_changes(harness, "DELETE", granted) == 1
    assert duplicated_messages(harness, [granted, pending]) == []


async def test_node_down_a_minute_then_back_catches_up(harness: Harness, pool: DevicePool) -> None:
    cluster = cluster_of(harness)
    pids = {name: s.process.pid for name, s in harness.services.items() if s.process}
    # The node that leads nothing in particular: any node other than the meta leader.
    meta = await cluster.meta_leader()
    down = next(n for n in cluster.nodes if n.name != meta)
    cluster.stop_node(down.name)
    loop = asyncio.get_running_loop()
    back_at = loop.time() + NODE_DOWN_SECONDS
    rids: list[str] = []
    try:
        while loop.time() < back_at - 15:
            batch = await file_many(harness, pool, 3)
            await approve_all(harness, batch)
            rids += batch
            await asyncio.sleep(min(15.0, max(0.0, back_at - 15 - loop.time())))
        await assert_each_applied_and_expired_once(harness, rids)
        await asyncio.sleep(max(0.0, back_at - loop.time()))
    finally:  # a failure here must not leave the next test a cluster without quorum
        await asyncio.to_thread(cluster.start_node, down.name)
    live = next(n for n in cluster.nodes if n.name != down.name)

    async def caught_up() -> bool:
        theirs = await cluster.stream_state(live, ACCESS_STREAM)
        mine = await cluster.stream_state(down, ACCESS_STREAM)
        return bool(theirs and mine and mine["state"]["last_seq"] == theirs["state"]["last_seq"])

    for _ in range(300):
        if await caught_up():
            break
        await asyncio.sleep(0.1)
    assert await caught_up(), "the node that was down has not caught up on ACCESS"
    # No service needed a restart: every process is the one that started.
    assert {n: s.process.pid for n, s in harness.services.items() if s.process} == pids
    for rid in rids:
        assert posted_about(harness, rid) > 0


async def test_one_replica_of_each_service_killed_mid_flow(
    harness: Harness, pool: DevicePool
) -> None:
    rids = await file_many(harness, pool, 6)
    approving = asyncio.create_task(approve_all(harness, rids, gap=0.2))
    await asyncio.sleep(0.5)
    for service in SERVICES:
        await harness.stop_service(replica_key(service, 1), signal.SIGKILL)
    more = await file_many(harness, pool, 3)
    await approving
    await approve_all(harness, more)

    await assert_each_applied_and_expired_once(harness, rids + more)
    for service in SERVICES:
        await harness.start_service(replica_key(service, 1))
