"""`accessbot dev`: the whole system on one machine, in one command.

Starts an embedded nats-server (unless NATS_URL points at one), the Slack and
Tailscale emulators where no real credentials are configured, and the four
services as child processes, each with its own NATS user and only its own
secrets. Ctrl-C (or SIGTERM) stops everything and leaves no process behind.
"""

from __future__ import annotations

import importlib
import os
import shlex
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType

import httpx

from accessbot.dev_credentials import default_data_dir, remove_login, write_login
from accessbot.natscluster import NatsCluster
from accessbot.natsserver import (
    EmbeddedNats,
    NatsServerError,
    env_without_secrets,
    free_port,
)
from accessbot.sandbox import Sandbox, SandboxError
from accessbot.sandbox_ports import DEFAULT_CONSOLE_PORT, DEFAULT_SLACK_PORT, DEFAULT_TAILSCALE_PORT
from accessbot.service_logs import last_error
from shared.health import HEALTH_PORT_PROBLEM, answered_by
from shared.permissions import ADMIN_USER, SERVICES, SIEM_USER, password_env_var
from shared.profiles import ProfilesConfig, ProfilesError, load_profiles
from shared.settings import ServiceSettings

READY_TIMEOUT_SECONDS = 60.0
STOP_TIMEOUT_SECONDS = 10.0

# Set by dev itself for every child; never taken from the caller's environment.
DEV_OWNED = frozenset(
    {"NATS_URL", "NATS_USER", "NATS_PASSWORD", "PROFILES_PATH", "HEALTH_HOST", "HEALTH_PORT"}
)


@dataclass
class DevOptions:
    """What `accessbot dev` was asked for."""

    data_dir: Path | None = None
    nats_port: int = 4222
    profiles_path: Path = Path("profiles.yaml")
    seed_devices: int = 200
    slack_port: int = DEFAULT_SLACK_PORT
    tailscale_port: int = DEFAULT_TAILSCALE_PORT
    # Three embedded nodes on --nats-port and the two ports after it, everything at R3.
    cluster: bool = False
    console_port: int = DEFAULT_CONSOLE_PORT


# dev chooses each service's health port free, but another program may take it before the
# service binds it (on a busy machine, or beside a test run): the service is started again
# on another port, this many times in all.
HEALTH_PORT_ATTEMPTS = 3


@dataclass
class Child:
    """A service process and where it reports readiness."""

    name: str
    process: subprocess.Popen[bytes]
    health_port: int
    attempt: int = 1


@dataclass
class DevRun:
    """Everything `accessbot dev` started, so it can all be stopped."""

    nats: EmbeddedNats | NatsCluster | None = None
    sandbox: Sandbox | None = None
    children: list[Child] = field(default_factory=list)
    stopping: bool = False

    def stop(self) -> None:
        """Stop services first (they drain), then the emulators, then NATS."""
        for child in self.children:
            if child.process.poll() is None:
                child.process.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + STOP_TIMEOUT_SECONDS
        for child in self.children:
            remaining = max(0.1, deadline - time.monotonic())
            try:
                child.process.wait(timeout=remaining)
            except subprocess.TimeoutExpired:
                say(f"{child.name} did not stop in time; killing it")
                child.process.kill()
                child.process.wait()
        if self.sandbox is not None:
            self.sandbox.stop()
        if self.nats is not None:
            self.nats.stop()


def say(message: str) -> None:
    """One line for the person at the terminal."""
    print(f"accessbot dev: {message}", flush=True)


def _nats_env(run: DevRun, service: str) -> dict[str, str]:
    if run.nats is not None:
        return run.nats.env_for(service)
    env = {"NATS_URL": os.environ["NATS_URL"], "NATS_USER": service}
    password = os.environ.get(password_env_var(service))
    if password:
        env["NATS_PASSWORD"] = password
    return env


def settings_model(service: str) -> type[ServiceSettings]:
    """The pydantic-settings class a service reads its environment with."""
    module = importlib.import_module(f"services.{service}.settings")
    models = [
        value
        for value in vars(module).values()
        if isinstance(value, type)
        and issubclass(value, ServiceSettings)
        and value is not ServiceSettings
    ]
    if len(models) != 1:
        raise RuntimeError(f"services.{service}.settings should define one settings class")
    return models[0]


def setting_names(service: str) -> frozenset[str]:
    """Every environment variable the service reads (field names in upper case: the
    models use no prefix and no aliases)."""
    return frozenset(name.upper() for name in settings_model(service).model_fields)


def service_env(run: DevRun, service: str, profiles: Path, health_port: int) -> dict[str, str]:
    """A child's environment: only its own NATS user, and of the SLACK_* / TAILSCALE_*
    settings only those its own settings model reads (so only its own secrets)."""
    env = env_without_secrets()
    wanted = setting_names(service) - DEV_OWNED
    env.update({k: v for k, v in os.environ.items() if k in wanted})
    env.update(_nats_env(run, service))
    if isinstance(run.nats, NatsCluster):
        env["STREAM_REPLICAS"] = str(len(run.nats.nodes))
    env.update(
        {
            "PROFILES_PATH": str(profiles.resolve()),
            "HEALTH_HOST": "127.0.0.1",
            "HEALTH_PORT": str(health_port),
            "PYTHONUNBUFFERED": "1",
        }
    )
    # Where an emulator stands in, its URL and credentials replace the caller's.
    sandbox = run.sandbox
    if sandbox is not None and sandbox.slack_url is not None:
        env.update({k: v for k, v in sandbox.slack_env().items() if k in wanted})
    if sandbox is not None and sandbox.tailscale_url is not None:
        env.update({k: v for k, v in sandbox.tailscale_env().items() if k in wanted})
    return env


def metrics_lines(children: list[Child]) -> list[str]:
    """Where each service serves Prometheus metrics (its health port)."""
    return [f"metrics of {c.name}: http://127.0.0.1:{c.health_port}/metrics" for c in children]


def _start_services(run: DevRun, profiles: Path, logs: Path) -> None:
    for service in SERVICES:
        run.children.append(_start_service(run, service, profiles, logs))


def _start_service(
    run: DevRun, service: str, profiles: Path, logs: Path, attempt: int = 1
) -> Child:
    port = free_port()
    env = service_env(run, service, profiles, port)
    log_file = (logs / f"{service}.log").open("ab")
    process = subprocess.Popen(  # noqa: S603 - our own module, fixed arguments
        [sys.executable, "-m", f"services.{service}"],
        env=env,
        stdout=log_file,
        stderr=subprocess.STDOUT,
    )
    log_file.close()
    return Child(service, process, port, attempt)


def lost_its_health_port(service: str, port: int, logs: Path) -> bool:
    """Whether the service exited because `port`, its health port, was taken before it
    could bind it."""
    why = last_error(logs / f"{service}.log", service) or ""
    return why.startswith(f"{HEALTH_PORT_PROBLEM} 127.0.0.1:{port}:")


def _exited(child: Child, logs: Path) -> str:
    """`<name> exited with code N: <its last error line>; see <its log>`."""
    log = logs / f"{child.name}.log"
    why = last_error(log, child.name)
    said = f": {why}" if why else ""
    return f"{child.name} exited with code {child.process.returncode}{said}; see {log}"


def _wait_ready(run: DevRun, profiles: Path, logs: Path) -> bool:
    pending = {c.name: c for c in run.children}
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while pending and time.monotonic() < deadline and not run.stopping:
        for name, child in list(pending.items()):
            if child.process.poll() is not None:
                lost = lost_its_health_port(name, child.health_port, logs)
                if lost and child.attempt < HEALTH_PORT_ATTEMPTS:
                    again = _start_service(run, name, profiles, logs, child.attempt + 1)
                    run.children[run.children.index(child)] = pending[name] = again
                    continue
                say(_exited(child, logs))
                return False
            try:
                response = httpx.get(f"http://127.0.0.1:{child.health_port}/readyz", timeout=1.0)
            except httpx.HTTPError:
                continue
            if response.status_code == 200 and answered_by(response.content, child.process.pid):
                say(f"{name} ready")
                del pending[name]
        time.sleep(0.2)
    if pending:
        say(f"not ready after {READY_TIMEOUT_SECONDS:.0f}s: {', '.join(pending)}; see {logs}")
        return False
    return True


def _embedded_nats(data_dir: Path, options: DevOptions) -> EmbeddedNats | NatsCluster:
    if options.cluster:
        ports = [options.nats_port + i for i in range(3)]
        return NatsCluster(data_dir / "nats-cluster", ports=ports, backend="wheel")
    return EmbeddedNats(data_dir=data_dir / "nats", port=options.nats_port)


def _start_infrastructure(
    run: DevRun, profiles: ProfilesConfig, data_dir: Path, options: DevOptions
) -> int | None:
    """NATS first (a taken port fails fast), then the emulators."""
    if os.environ.get("NATS_URL"):
        say(f"using NATS at {os.environ['NATS_URL']} (NATS_URL is set)")
    else:
        run.nats = _embedded_nats(data_dir, options)
        try:
            run.nats.start()
        except NatsServerError as exc:
            say(str(exc))
            return 2
    run.sandbox = Sandbox.for_environment(
        profiles,
        data_dir=data_dir,
        devices=options.seed_devices,
        slack_port=options.slack_port,
        tailscale_port=options.tailscale_port,
        console_port=options.console_port,
    )
    for line in run.sandbox.describe():
        say(line)
    if isinstance(run.nats, NatsCluster):
        say(f"embedded NATS cluster (3 nodes, JetStream R3), data in {run.nats.data_dir}")
        for node in run.nats.nodes:
            say(f"NATS node {node.name}: {node.url} (leaders: {node.monitor_url}/jsz)")
    elif run.nats is not None:
        say(f"embedded NATS with JetStream at {run.nats.url}, data in {run.nats.data_dir}")
    try:
        run.sandbox.start()
        console_env = _nats_env(run, SIEM_USER)
        admin_password = _nats_env(run, ADMIN_USER).get("NATS_PASSWORD")
        if admin_password:  # the console lists dead letters (read only)
            console_env["CONSOLE_ADMIN_NATS_PASSWORD"] = admin_password
        run.sandbox.start_console(console_env, options.profiles_path)
    except SandboxError as exc:
        say(str(exc))
        return 2 if "already in use" in str(exc) else 1
    for line in run.sandbox.notes:
        say(line)
    if run.nats is not None:
        write_login(
            data_dir, url=run.nats.url, user=SIEM_USER, password=run.nats.passwords[SIEM_USER]
        )
    return None


def service_url_lines(children: list[Child]) -> list[str]:
    """Each service's health endpoint (its metrics are on the same port, see
    `metrics_lines`)."""
    return [f"health of {c.name}: http://127.0.0.1:{c.health_port}/healthz" for c in children]


def audit_line(data_dir: Path) -> str:
    """A SIEM-feed command that works as printed in another terminal."""
    if os.environ.get("NATS_URL"):
        password = f"${password_env_var(SIEM_USER)}"
        return (
            f"SIEM feed: NATS_URL={shlex.quote(os.environ['NATS_URL'])} "
            f'NATS_PASSWORD="{password}" accessbot audit tail'
        )
    # audit finds the siem login dev keeps in its data dir (see dev_credentials).
    prefix = ""
    if data_dir.resolve() != default_data_dir().resolve():
        prefix = f"ACCESSBOT_DATA_DIR={shlex.quote(str(data_dir.resolve()))} "
    return f"SIEM feed: {prefix}accessbot audit tail"


def _say_where_things_are(run: DevRun, data_dir: Path) -> None:
    for line in [
        *(run.sandbox.urls() if run.sandbox else []),
        *service_url_lines(run.children),
        audit_line(data_dir),
    ]:
        say(line)


def run_dev(options: DevOptions) -> int:
    """Run until Ctrl-C; the exit code says whether everything came up."""
    try:
        profiles = load_profiles(options.profiles_path)
    except ProfilesError as exc:
        hint = (
            ""
            if options.profiles_path.exists()
            else " (run from the repository root, or pass --profiles PATH)"
        )
        print(f"accessbot dev: {exc.one_line()}{hint}", file=sys.stderr)
        return 2
    data_dir = options.data_dir or default_data_dir()
    logs = data_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    run = DevRun()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        run.stopping = True

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    try:
        failed = _start_infrastructure(run, profiles, data_dir, options)
        if failed is not None:
            return failed
        _start_services(run, options.profiles_path, logs)
        if not _wait_ready(run, options.profiles_path, logs):
            return 0 if run.stopping else 1
        _say_where_things_are(run, data_dir)
        for line in metrics_lines(run.children):
            say(line)
        say("all four services are ready. Logs: " + str(logs) + ". Press Ctrl-C to stop.")
        for line in run.sandbox.try_it() if run.sandbox else []:
            say(line)
        while not run.stopping:
            for child in run.children:
                if child.process.poll() is not None:
                    say(_exited(child, logs) + "; stopping")
                    return 1
            time.sleep(0.3)
        return 0
    finally:
        say("stopping")
        run.stop()
        remove_login(data_dir)
        say("stopped")
