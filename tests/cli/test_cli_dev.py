"""`accessbot dev`: comes up from a clean data dir, all four ready, Ctrl-C leaves nothing."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from accessbot import dev
from accessbot.dev import (
    DEV_OWNED,
    Child,
    DevRun,
    service_env,
    setting_names,
    settings_model,
)
from accessbot.natsserver import EmbeddedNats, free_port
from shared.permissions import SERVICES, password_env_var
from shared.settings import ServiceSettings
from tests.conftest import PROFILES_PATH, REPO_ROOT
from tests.pipe_lines import lines_of

READY_LINE = "all four services are ready"


def dev_argv(data_dir: Path, devices: int, *, nats: Sequence[str] | None = None) -> list[str]:
    """`accessbot dev` on free ports, with the test profiles, `devices` in the tailnet.

    `nats`: the options saying which NATS to run or use (default: one embedded server on
    a free port; `()` for none, when NATS_URL names a server)."""
    nats_options = ("--nats-port", str(free_port())) if nats is None else tuple(nats)
    return [
        *(sys.executable, "-m", "accessbot", "dev", *nats_options),
        *emulator_ports(),
        *("--data-dir", str(data_dir), "--profiles", str(PROFILES_PATH)),
        *("--devices", str(devices)),
    ]


def emulator_ports() -> list[str]:
    """Free emulator and console ports: the fixed defaults would clash with a dev run
    elsewhere on the machine."""
    return [
        *("--slack-port", str(free_port()), "--tailscale-port", str(free_port())),
        *("--console-port", str(free_port())),
    ]


def _dev_env(marker: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TAILSCALE_", "NATS_", "HEALTH_"))
    }
    env["ACCESSBOT_TEST_MARKER"] = marker  # inherited by every process dev starts
    return env


def _processes_with(marker: str) -> list[int]:
    """PIDs whose environment carries the marker (Linux /proc)."""
    needle = f"ACCESSBOT_TEST_MARKER={marker}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            environ = (entry / "environ").read_bytes()
        except OSError:
            continue
        if needle in environ.split(b"\0"):
            found.append(int(entry.name))
    return found


def _read_until(proc: subprocess.Popen[str], text: str, timeout: float) -> list[str]:
    """Lines up to the one containing `text` (`tests.pipe_lines`: what a burst brought
    beyond it is kept for the next call)."""
    assert proc.stdout is not None
    output = lines_of(proc.stdout)
    lines: list[str] = []
    deadline = time.monotonic() + timeout
    while (left := deadline - time.monotonic()) > 0:
        line = output.next_line(min(left, 0.5))
        if line is not None:
            lines.append(line)
            if text in line:
                return lines
        elif output.eof or proc.poll() is not None:
            break
    pytest.fail(f"{text!r} not seen within {timeout}s; output so far:\n" + "\n".join(lines))


@pytest.mark.e2e
@pytest.mark.slow
def test_dev_starts_everything_and_sigint_leaves_no_process(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        dev_argv(tmp_path / "data", devices=50),
        cwd=REPO_ROOT,
        env=_dev_env(marker),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        lines = _read_until(proc, READY_LINE, timeout=120)
        assert "Slack emulator" in lines[0] or "Slack EMULATOR" in lines[0], lines[:3]
        assert "Tailscale EMULATOR" in lines[1], lines[:3]
        for service in ("intake", "approvals", "grants", "notifier"):
            assert any(line.endswith(f"{service} ready") for line in lines), service
        assert (tmp_path / "data" / "nats" / "jetstream").is_dir()
        for service in ("intake", "approvals", "grants", "notifier"):
            [url] = [line.split(": ", 2)[-1] for line in lines if f"metrics of {service}:" in line]
            scraped = httpx.get(url, timeout=5.0)
            assert scraped.status_code == 200, url
            assert "# TYPE accessbot_" in scraped.text, url
        started = _processes_with(marker)
        # nats-server, two emulators, four services (the dev process itself too)
        assert len(started) >= 8, started
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        assert proc.stdout is not None
        tail = lines_of(proc.stdout).rest()
        proc.stdout.close()
    assert code == 0, tail
    assert "accessbot dev: stopped" in tail
    deadline = time.monotonic() + 10
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker) == []


@pytest.mark.e2e
def test_dev_refuses_a_taken_port_with_a_clear_message(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(  # noqa: S603 - our own CLI
            dev_argv(tmp_path / "data", devices=5, nats=("--nats-port", str(port))),
            cwd=REPO_ROOT,
            env=_dev_env(uuid.uuid4().hex),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )  # fmt: skip
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"port {port} on 127.0.0.1 is already in use" in result.stdout


@pytest.mark.e2e
def test_dev_refuses_invalid_profiles(tmp_path: Path) -> None:
    bad = tmp_path / "profiles.yaml"
    bad.write_text("profiles: []\n", encoding="utf-8")
    result = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "accessbot", "dev", "--profiles", str(bad)],
        env=_dev_env(uuid.uuid4().hex),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr == f"accessbot dev: {bad}: profiles: has 0 entries, needs at least 1\n"


@pytest.mark.e2e
@pytest.mark.slow
def test_dev_uses_an_existing_server_when_nats_url_is_set(
    tmp_path: Path, nats_server: EmbeddedNats
) -> None:
    marker = uuid.uuid4().hex
    env = _dev_env(marker)
    env["NATS_URL"] = nats_server.url
    for user in ("intake", "approvals", "grants", "notifier"):
        env[password_env_var(user)] = nats_server.passwords[user]
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        dev_argv(tmp_path / "data", devices=20, nats=()),
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        lines = _read_until(proc, READY_LINE, timeout=120)
        assert any(f"using NATS at {nats_server.url}" in line for line in lines), lines
        assert not any("embedded NATS" in line for line in lines)
        assert not (tmp_path / "data" / "nats").exists()
        binaries = [Path(f"/proc/{pid}/exe").resolve().name for pid in _processes_with(marker)]
        assert "nats-server" not in binaries
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        assert proc.stdout is not None
        proc.stdout.close()
    assert code == 0


GRANTS_TUNING = (
    "TAILSCALE_REQUEST_TIMEOUT_SECONDS",
    "TAILSCALE_RETRY_BUDGET_SECONDS",
    "TAILSCALE_RETRY_BASE_DELAY_SECONDS",
    "TAILSCALE_RETRY_MAX_DELAY_SECONDS",
)


def test_every_documented_setting_reaches_the_service_that_reads_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each service's settings model is the list: every variable it reads is passed on
    (with the caller's value), and no service gets a variable only another one reads."""
    monkeypatch.setenv("NATS_URL", "nats://127.0.0.1:1")
    readers: dict[str, set[str]] = {}
    for service in SERVICES:
        for name in setting_names(service) - DEV_OWNED:
            readers.setdefault(name, set()).add(service)
            monkeypatch.setenv(name, f"value-of-{name}")
    # The grants tuning that dev used to drop is documented there.
    assert set(GRANTS_TUNING) <= {n for n, s in readers.items() if s == {"grants"}}
    for service in SERVICES:
        env = service_env(DevRun(), service, tmp_path / "profiles.yaml", 9999)
        for name, services in readers.items():
            if service in services:
                assert env.get(name) == f"value-of-{name}", (service, name)
            elif name.startswith(("SLACK_", "TAILSCALE_")):
                assert name not in env, (service, name)
        assert env["NATS_USER"] == service
        assert env["HEALTH_PORT"] == "9999"


def test_settings_models_are_found_for_every_service() -> None:
    for service in SERVICES:
        model = settings_model(service)
        assert issubclass(model, ServiceSettings)
        assert model is not ServiceSettings
    assert "TAILSCALE_OAUTH_CLIENT_SECRET" in setting_names("grants")
    assert "TAILSCALE_OAUTH_CLIENT_SECRET" not in setting_names("notifier")
    assert "SLACK_BOT_TOKEN" not in setting_names("grants")


_LOSES_ITS_HEALTH_PORT = (
    "import json, sys\n"
    "print(json.dumps({'event': f'cannot serve health on 127.0.0.1:{sys.argv[1]}: '\n"
    "    'address already in use', 'level': 'error'}), flush=True)\n"
    "sys.exit(2)\n"
)


@pytest.mark.e2e
def test_dev_chooses_another_health_port_a_bounded_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """A service whose health port another program took first is started again on
    another port, HEALTH_PORT_ATTEMPTS times in all; then dev says why and gives up."""
    logs = tmp_path / "logs"
    logs.mkdir()
    started: list[tuple[str, int, int]] = []

    def losing(run: DevRun, service: str, profiles: Path, logs: Path, attempt: int = 1) -> Child:
        port = free_port()
        with (logs / f"{service}.log").open("ab") as log:
            process = subprocess.Popen(  # noqa: S603 - a fixed script
                [sys.executable, "-c", _LOSES_ITS_HEALTH_PORT, str(port)], stdout=log
            )
        started.append((service, port, attempt))
        return Child(service, process, port, attempt)

    monkeypatch.setattr(dev, "_start_service", losing)
    run = DevRun()
    run.children.append(dev._start_service(run, "grants", PROFILES_PATH, logs))
    try:
        assert dev._wait_ready(run, PROFILES_PATH, logs) is False
    finally:
        for child in run.children:
            child.process.wait(timeout=10)
    assert [(s, a) for s, _, a in started] == [("grants", 1), ("grants", 2), ("grants", 3)]
    assert len({port for _, port, _ in started}) == dev.HEALTH_PORT_ATTEMPTS  # a new one each
    said = capsys.readouterr().out
    assert f"grants exited with code 2: cannot serve health on 127.0.0.1:{started[-1][1]}" in said
    assert run.children[0].attempt == dev.HEALTH_PORT_ATTEMPTS
