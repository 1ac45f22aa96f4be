"""deploy/docker-compose.cluster.yml: three NATS nodes, two replicas of every service,
each given all three URLs and R3; validated by docker-compose like the main file."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from accessbot.natsserver import nats_server_binary
from shared.permissions import USERS, password_env_var
from tests.deploy.test_deploy_compose import DEPLOY, SERVICES, _config, _env

pytestmark = pytest.mark.e2e  # docker-compose and nats-server -t run as child processes

CLUSTER_COMPOSE = DEPLOY / "docker-compose.cluster.yml"
NODES = ("nats-1", "nats-2", "nats-3")


@pytest.fixture
def cluster(tmp_path: Path) -> dict[str, Any]:
    result = _config(tmp_path, CLUSTER_COMPOSE)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def test_three_nodes_and_two_replicas_of_each_service(cluster: dict[str, Any]) -> None:
    assert set(cluster["services"]) == {*NODES, *SERVICES, "cli"}
    for service in SERVICES:
        spec = cluster["services"][service]
        assert spec["deploy"]["replicas"] == 2, service
        assert spec["command"] == ["serve", service]
        assert spec["healthcheck"]["test"][1:] == ["accessbot", "health", service]
        assert spec["restart"] == "unless-stopped"
    assert {f"{n}-data" for n in NODES} <= set(cluster["volumes"])


def test_every_service_knows_every_node_and_asks_for_r3(cluster: dict[str, Any]) -> None:
    for service in (*SERVICES, "cli"):
        env = _env(cluster, service)
        assert env["NATS_URL"].split(",") == [f"nats://{n}:4222" for n in NODES], service
        assert env["STREAM_REPLICAS"] == "3", service
    for service in SERVICES:
        env = _env(cluster, service)
        assert env["NATS_USER"] == service
        assert env["NATS_PASSWORD"] == f"value-of-ACCESSBOT_NATS_{service.upper()}_PASSWORD"


def test_secrets_reach_only_their_service(cluster: dict[str, Any]) -> None:
    for service in (*NODES, *SERVICES, "cli"):
        env = _env(cluster, service)
        assert any(k.startswith("TAILSCALE_") for k in env) == (service == "grants"), service
        assert any(k.startswith("SLACK_") for k in env) == (service in ("intake", "notifier"))


def test_each_node_has_its_own_name_and_store_and_the_shared_config(
    cluster: dict[str, Any],
) -> None:
    stores = set()
    for node in NODES:
        spec = cluster["services"][node]
        assert spec["command"] == ["-c", "/etc/nats/cluster.conf"]
        assert spec["stop_signal"] == "SIGUSR2"  # lame duck: leaders handed over first
        assert _env(cluster, node)["NATS_SERVER_NAME"] == node
        assert spec["image"] == cluster["services"]["nats-1"]["image"]
        volumes = [str(v) if isinstance(v, str) else v["source"] for v in spec["volumes"]]
        stores |= {v for v in volumes if "data" in v}
    assert len(stores) == 3  # no two nodes share a JetStream store


def test_the_node_config_is_valid_and_routes_to_every_node(tmp_path: Path) -> None:
    text = (DEPLOY / "nats" / "cluster.conf").read_text(encoding="utf-8")
    for node in NODES:
        assert f"nats-route://{node}:6222" in text
    env = {password_env_var(user): f"pw-{user}" for user in USERS}
    env["NATS_SERVER_NAME"] = "nats-2"
    result = subprocess.run(  # noqa: S603 - the pinned server binary, our config
        [nats_server_binary(), "-t", "-c", str(DEPLOY / "nats" / "cluster.conf")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout + result.stderr
