"""Which backend runs the cluster's nodes: containers only where a Docker engine answers
and testcontainers is installed; otherwise (as on this machine) the pinned wheel."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest

from accessbot import natscluster
from accessbot.natscluster import (
    BACKEND_ENV,
    NatsCluster,
    WheelNode,
    docker_engine_reachable,
    select_backend,
)
from accessbot.natsserver import NatsServerError

pytestmark = [pytest.mark.cluster, pytest.mark.e2e]


@pytest.fixture(autouse=True)
def no_docker_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv(BACKEND_ENV, raising=False)


@pytest.fixture
def listening_socket() -> Iterator[Path]:
    """Something answering on a unix socket, as a Docker engine would (short path: the
    limit of a unix socket path is about 100 bytes)."""
    path = Path(f"/tmp/accessbot-docker-{id(object())}.sock")  # noqa: S108 - test socket
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(path))
    server.listen(1)
    try:
        yield path
    finally:
        server.close()
        path.unlink(missing_ok=True)


def test_without_a_docker_engine_the_wheel_runs_the_nodes(tmp_path: Path) -> None:
    missing = tmp_path / "docker.sock"
    assert not docker_engine_reachable(missing)
    backend, why = select_backend(sock=missing)
    assert backend == "wheel"
    assert "no Docker engine" in why


def test_a_socket_that_answers_counts_as_an_engine(listening_socket: Path) -> None:
    assert docker_engine_reachable(listening_socket)
    backend, why = select_backend(sock=listening_socket)
    if natscluster.testcontainers_installed():
        assert backend == "testcontainers"
    else:
        assert (backend, why) == (
            "wheel",
            "the pinned nats-server wheel (testcontainers is not installed)",
        )


def test_asking_for_containers_without_an_engine_is_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(NatsServerError, match="cannot run nats-server in containers: no Docker"):
        select_backend("testcontainers", sock=tmp_path / "docker.sock")
    with pytest.raises(NatsServerError, match="use wheel, testcontainers or auto"):
        select_backend("podman")


def test_the_default_cluster_on_this_machine_uses_the_wheel(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(BACKEND_ENV, "wheel")
    cluster = NatsCluster(tmp_path / "nats")
    assert cluster.backend_used == "wheel"
    assert all(isinstance(node.process, WheelNode) for node in cluster.nodes)
    assert len({node.url for node in cluster.nodes}) == 3
    assert cluster.url == ",".join(cluster.urls)
    assert cluster.env_for("grants")["NATS_PASSWORD"] == cluster.passwords["grants"]
    config = cluster.nodes[0].server.write_config().read_text(encoding="utf-8")
    assert 'server_name: "n1"' in config
    for node in cluster.nodes:
        assert f"nats-route://127.0.0.1:{node.route_port}" in config
    assert "accounts {" in config  # the same rendered permission config


def test_a_port_taken_between_probe_and_bind_is_picked_again(tmp_path: Path) -> None:
    cluster = NatsCluster(tmp_path / "nats", backend="wheel")
    taken = cluster.nodes[1].route_port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as squatter:
        squatter.bind(("127.0.0.1", taken))
        squatter.listen(1)
        cluster.start()
        try:
            assert cluster.nodes[1].route_port != taken
            assert all(node.running for node in cluster.nodes)
        finally:
            cluster.stop()
