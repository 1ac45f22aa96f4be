"""A bare three-node cluster (no services) for the fixture and provisioning tests."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client
from pydantic import SecretStr

from accessbot.natscluster import NatsCluster
from shared.connection import connect
from shared.permissions import ADMIN_USER
from shared.settings import ServiceSettings


def cluster_settings(cluster: NatsCluster, user: str = ADMIN_USER) -> ServiceSettings:
    """Settings that connect `user` with every node's URL."""
    return ServiceSettings(
        nats_url=cluster.url, nats_user=user, nats_password=SecretStr(cluster.passwords[user])
    )


@pytest.fixture
def nats_cluster(tmp_path: Path) -> Iterator[NatsCluster]:
    cluster = NatsCluster(tmp_path / "nats", backend="wheel")
    cluster.start()
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture
async def cluster_admin(nats_cluster: NatsCluster) -> AsyncIterator[Client]:
    nc = await connect(cluster_settings(nats_cluster), name="test-cluster-admin")
    try:
        yield nc
    finally:
        await nc.close()
