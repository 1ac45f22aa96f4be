"""Provisioning on a cluster: several replicas at once, replica drift in one line, and
moving an R1 deployment to R3 with `accessbot replicas --set 3`."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Awaitable, Callable

import pytest
from nats.aio.client import Client

from accessbot.natscluster import NatsCluster
from shared.connection import connect
from shared.contracts.subjects import ACCESS_STREAM
from shared.permissions import ADMIN_USER, SIEM_JS_API
from shared.provisioning import SIEM_COPY, ProvisionReport, managed_streams, provision
from shared.runtime import while_jetstream_busy
from tests.cluster.conftest import cluster_settings

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]

EVERY_STREAM = {*managed_streams(), SIEM_COPY}


async def replicas_of(nc: Client) -> dict[str, int]:
    js, siem = nc.jetstream(), nc.jetstream(prefix=SIEM_JS_API)
    found = {n: (await js.stream_info(n)).config.num_replicas or 1 for n in managed_streams()}
    found[SIEM_COPY] = (await siem.stream_info(ACCESS_STREAM)).config.num_replicas or 1
    return found


async def test_several_replicas_provision_at_once(nats_cluster: NatsCluster) -> None:
    # Eight service processes starting together, each as its own NATS user.
    users = ["intake", "approvals", "grants", "notifier"] * 2
    clients = [await connect(cluster_settings(nats_cluster, u), name=u) for u in users]
    try:
        # As each service's start does it: tried again while JetStream is busy.
        def provisioning(nc: Client) -> Callable[[], Awaitable[ProvisionReport]]:
            return lambda: provision(nc.jetstream(), replicas=3)

        reports = await asyncio.gather(
            *(while_jetstream_busy("provision", provisioning(c)) for c in clients)
        )
        for report in reports:
            assert report.drift == []
            assert set(report.created) | set(report.unchanged) == EVERY_STREAM
        assert await replicas_of(clients[0]) == dict.fromkeys(EVERY_STREAM, 3)
        # Each stream lives on all three nodes: a leader and two followers.
        info = await clients[0].jetstream().stream_info(ACCESS_STREAM)
        assert info.cluster is not None
        assert len(info.cluster.replicas or []) == 2
        again = await provision(clients[1].jetstream(), replicas=3)
        assert sorted(again.unchanged) == sorted(EVERY_STREAM)
    finally:
        for client in clients:
            await client.close()


async def test_r1_drift_is_one_line_and_accessbot_moves_it_to_r3(
    nats_cluster: NatsCluster, cluster_admin: Client
) -> None:
    js = cluster_admin.jetstream()
    await provision(js, replicas=1)  # a deployment that began on one server
    report = await provision(js, replicas=3)
    lines = sorted(str(d) for d in report.drift)
    assert len(lines) == len(EVERY_STREAM)
    assert lines[0] == (
        "stream ACCESS: 1 replica(s), STREAM_REPLICAS wants 3; "
        "run `accessbot replicas --set 3` as admin to move it"
    )

    env = {
        **os.environ,
        "NATS_URL": nats_cluster.url,
        "NATS_PASSWORD": nats_cluster.passwords[ADMIN_USER],
    }
    env.pop("NATS_USER", None)
    done = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "accessbot", "replicas", "--set", "3"],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "moved ACCESS: R1 -> R3" in done.stdout
    assert f"moved {SIEM_COPY}: R1 -> R3" in done.stdout
    assert "ACCESS: R3 on " in done.stdout
    assert await replicas_of(cluster_admin) == dict.fromkeys(EVERY_STREAM, 3)
    assert (await provision(js, replicas=3)).drift == []


async def test_any_node_can_be_killed_and_restarted(
    nats_cluster: NatsCluster, cluster_admin: Client
) -> None:
    js = cluster_admin.jetstream()
    await provision(js, replicas=3)
    await js.publish("access.request.submitted", b"{}", stream=ACCESS_STREAM)
    leader = (await js.stream_info(ACCESS_STREAM)).cluster.leader  # type: ignore[union-attr]
    assert leader in {n.name for n in nats_cluster.nodes}
    nats_cluster.kill_node(leader)
    assert not nats_cluster.node(leader).running

    async def access_leader() -> str | None:
        info = await js.stream_info(ACCESS_STREAM)
        return info.cluster.leader if info.cluster else None

    new = await nats_cluster.wait_for("ACCESS", access_leader, unlike=leader)
    assert new != leader
    assert await nats_cluster.meta_leader() in {n.name for n in nats_cluster.nodes}
    await js.publish("access.request.submitted", b"{}", stream=ACCESS_STREAM)
    await asyncio.to_thread(nats_cluster.start_node, leader)
    state = await nats_cluster.stream_state(nats_cluster.node(leader), ACCESS_STREAM)
    for _ in range(50):
        if state and state["state"]["messages"] == 2:
            break
        await asyncio.sleep(0.1)
        state = await nats_cluster.stream_state(nats_cluster.node(leader), ACCESS_STREAM)
    assert state is not None
    assert state["state"]["messages"] == 2  # the restarted node caught up
