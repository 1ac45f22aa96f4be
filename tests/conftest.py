"""Fixtures shared by every test: a real nats-server per test, on a free port; test tiers."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats, free_port
from shared.connection import connect
from shared.health import HealthServer
from shared.permissions import ADMIN_USER
from shared.provisioning import provision
from shared.settings import ServiceSettings
from tests import tiers, xdist_scheduling

REPO_ROOT = Path(__file__).resolve().parent.parent
PROFILES_PATH = REPO_ROOT / "profiles.yaml"

# `pytester` runs small pytest sessions in tests/architecture/test_test_tiers.py.
pytest_plugins = ["pytester"]

# Fails a test whose processes or sockets contradict its tier (registered by being here).
tier_is_true = tiers.tier_is_true


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by the tier markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test gets exactly one tier (tests/tiers.py); a contradiction stops collection."""
    tiers.assign_tiers(items)


@pytest.hookimpl(optionalhook=True)  # a pytest-xdist hook
def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """`-n N` (scripts/test): tests one by one, a module sharing a fixture on one worker."""
    if config.getoption("dist") != "load":
        return None  # an explicit --dist keeps its meaning
    return xdist_scheduling.TestsOrSharedModules(config, log)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[EmbeddedNats]:
    """A real nats-server with JetStream, the permission matrix and its own store dir."""
    server = EmbeddedNats(data_dir=tmp_path / "nats", port=free_port())
    server.start()
    try:
        yield server
    finally:
        server.stop()


def settings_for(server: EmbeddedNats, user: str, **overrides: object) -> ServiceSettings:
    """ServiceSettings that connect to `server` as `user`."""
    values: dict[str, object] = {
        "nats_url": server.url,
        "nats_user": user,
        "nats_password": server.passwords[user],
        "profiles_path": PROFILES_PATH,
        "log_format": "json",
    }
    values.update(overrides)
    return ServiceSettings.model_validate(values)


async def ready_health_server(service: str, port: int) -> HealthServer:
    """A started health endpoint that answers ready as `service` (from this process)."""
    server = HealthServer(service, "127.0.0.1", port)

    async def ready() -> bool:
        return True

    server.add_check("nats", ready)
    await server.start()
    return server


@pytest.fixture
async def admin_nc(nats_server: EmbeddedNats) -> AsyncIterator[Client]:
    """A client connected as the admin user."""
    nc = await connect(settings_for(nats_server, ADMIN_USER), name="test-admin")
    try:
        yield nc
    finally:
        await nc.drain()


@pytest.fixture
async def admin_js(admin_nc: Client) -> JetStreamContext:
    """JetStream as admin, with streams and buckets provisioned."""
    js = admin_nc.jetstream()
    await provision(js)
    return js
