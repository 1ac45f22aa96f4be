"""`serve`, `audit tail|export`: say where NATS is, a line per few seconds while it is
unreachable, `/healthz` says why, and SIGINT/SIGTERM end them within 5 s in any state.
A refused password ends `audit` and `serve` with exit 2 and one line.

Real processes, real signals, a real nats-server (and a port nothing listens on).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats, free_port
from tests.conftest import PROFILES_PATH, REPO_ROOT
from tests.pipe_lines import lines_of

pytestmark = pytest.mark.e2e

STOP_WITHIN_SECONDS = 5.0
Line = dict[str, object]


def _env(url: str, user: str, password: str | None, **extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TAILSCALE_", "NATS_", "HEALTH_", "LOG_"))
    }
    env.update({"NATS_URL": url, "NATS_USER": user, "LOG_FORMAT": "json"})
    env["PROFILES_PATH"] = str(PROFILES_PATH)
    if password is not None:
        env["NATS_PASSWORD"] = password
    env.update(extra)
    return env


class Running:
    """A CLI process whose stderr log lines are read as JSON objects."""

    def __init__(self, args: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "accessbot", *args],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            bufsize=0,
        )
        self.lines: list[Line] = []
        self.raw: list[str] = []
        assert self.proc.stderr is not None
        self._stderr = lines_of(self.proc.stderr)

    def _read_one(self, timeout: float) -> bool:
        line = self._stderr.next_line(timeout)
        if line is None:
            return False
        self._add(line + "\n")
        return True

    def _add(self, text: str) -> None:
        self.raw.append(text)
        self.lines.append(json.loads(text))  # every line is one JSON object

    def wait_for(self, predicate: Callable[[Line], bool], timeout: float) -> Line:
        deadline = time.monotonic() + timeout
        for line in self.lines:
            if predicate(line):
                return line
        while time.monotonic() < deadline:
            if self._read_one(0.2):
                if predicate(self.lines[-1]):
                    return self.lines[-1]
            elif self.proc.poll() is not None:
                break
        pytest.fail(f"not seen within {timeout}s; stderr so far:\n{''.join(self.raw)}")

    def count(self, text: str) -> int:
        return sum(text in str(line["event"]) for line in self.lines)

    def signal_and_wait(self, sig: signal.Signals) -> tuple[int, float]:
        """Send `sig`; the exit code and how long it took (the rest of stderr is read)."""
        started = time.monotonic()
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=STOP_WITHIN_SECONDS + 5)
        finally:
            self.kill()
        took = time.monotonic() - started
        for text in self._stderr.rest().splitlines(keepends=True):
            self._add(text)
        return code, took

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()


@contextmanager
def running(args: list[str], env: dict[str, str]) -> Iterator[Running]:
    proc = Running(args, env)
    try:
        yield proc
    finally:
        proc.kill()
        if proc.proc.stderr is not None:
            proc.proc.stderr.close()


def _health(port: int, path: str) -> httpx.Response:
    return httpx.get(f"http://127.0.0.1:{port}{path}", timeout=2.0)


COMMANDS = {
    "serve": (["serve", "approvals"], "approvals"),
    "audit tail": (["audit", "tail"], "siem"),
    "audit export": (["audit", "export"], "siem"),
}


@pytest.mark.slow
@pytest.mark.parametrize(
    ("command", "sig"),
    [
        ("serve", signal.SIGINT),
        ("serve", signal.SIGTERM),
        ("audit tail", signal.SIGINT),
        ("audit export", signal.SIGTERM),
    ],
)
def test_unreachable_nats_is_said_at_once_then_every_few_seconds_and_a_signal_ends_it(
    command: str, sig: signal.Signals
) -> None:
    args, user = COMMANDS[command]
    url = f"nats://127.0.0.1:{free_port()}"  # nothing listens there
    health_port = free_port()
    env = _env(url, user, "pw", HEALTH_PORT=str(health_port))
    with running(args, env) as proc:
        # The first line waits on the interpreter starting (slow on a loaded machine);
        # "at once" is measured from it.
        first = proc.wait_for(lambda _: True, timeout=20)
        assert first["event"] == f"connecting to NATS at {url} as {user}"
        wanted = f"cannot reach NATS at {url} as {user}: connection refused; retrying"
        started = time.monotonic()
        line = proc.wait_for(lambda x: x["event"] == wanted, timeout=5)
        assert line["level"] == "warning"
        proc.wait_for(lambda x: x["event"] == wanted and x is not line, timeout=6)
        assert time.monotonic() - started >= 1.0  # a line every few seconds, not a flood
        if command == "serve":
            alive = _health(health_port, "/healthz")
            assert alive.status_code == 200
            assert alive.json()["ready"] is False
            assert alive.json()["reason"] == wanted.removesuffix("; retrying")
            ready = _health(health_port, "/readyz")
            assert ready.status_code == 503
            assert ready.json()["reason"] == wanted.removesuffix("; retrying")
            asked = _accessbot("health", "approvals", "--url", f"http://127.0.0.1:{health_port}")
            assert asked.returncode == 1
            assert asked.stderr.strip().endswith(wanted.removesuffix("; retrying")), asked.stderr
        code, took = proc.signal_and_wait(sig)
    assert took < STOP_WITHIN_SECONDS, took
    assert code == 0
    assert not any("Traceback" in text for text in proc.raw)
    assert proc.count("cannot reach NATS") <= 4


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_running_service_stops_within_5s_on_a_signal(
    nats_server: EmbeddedNats, sig: signal.Signals
) -> None:
    health_port = free_port()
    env = _env(
        nats_server.url,
        "approvals",
        nats_server.passwords["approvals"],
        HEALTH_PORT=str(health_port),
    )
    with running(["serve", "approvals"], env) as proc:
        proc.wait_for(lambda x: x["event"] == "service.ready", timeout=20)
        assert _health(health_port, "/readyz").json()["ready"] is True
        code, took = proc.signal_and_wait(sig)
    assert (code, took < STOP_WITHIN_SECONDS) == (0, True), (code, took)
    assert proc.lines[-1]["event"] == "service.stopped"
    assert not any(line["level"] in ("error", "critical") for line in proc.lines), proc.raw


@pytest.mark.slow
def test_a_service_that_lost_nats_says_why_and_still_stops_within_5s(tmp_path: Path) -> None:
    server = EmbeddedNats(data_dir=tmp_path / "nats", port=free_port())
    server.start()
    health_port = free_port()
    env = _env(server.url, "approvals", server.passwords["approvals"], HEALTH_PORT=str(health_port))
    try:
        with running(["serve", "approvals"], env) as proc:
            proc.wait_for(lambda x: x["event"] == "service.ready", timeout=20)
            server.stop()
            lost = f"cannot reach NATS at {server.url} as approvals"
            proc.wait_for(lambda x: str(x["event"]).startswith(lost), timeout=10)
            body = _health(health_port, "/healthz").json()
            assert body["ready"] is False
            assert str(body["reason"]).startswith(lost)
            code, took = proc.signal_and_wait(signal.SIGTERM)
    finally:
        server.stop()
    assert (code, took < STOP_WITHIN_SECONDS) == (0, True), (code, took, proc.raw)
    assert not any("Traceback" in text for text in proc.raw)


@pytest.mark.slow
def test_audit_tail_stops_within_5s_while_tailing(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    env = _env(nats_server.url, "siem", nats_server.passwords["siem"])
    with running(["audit", "tail"], env) as proc:
        proc.wait_for(lambda x: str(x["event"]).startswith("connecting to NATS"), timeout=10)
        time.sleep(1.5)  # connected and fetching
        assert proc.proc.poll() is None
        code, took = proc.signal_and_wait(signal.SIGINT)
    assert (code, took < STOP_WITHIN_SECONDS) == (0, True), (code, took, proc.raw)


@pytest.mark.parametrize("command", ["audit tail", "audit export", "serve"])
def test_a_refused_password_ends_with_exit_2_and_one_line(
    nats_server: EmbeddedNats, command: str
) -> None:
    args, user = COMMANDS[command]
    result = subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "accessbot", *args],
        cwd=REPO_ROOT,
        env=_env(nats_server.url, user, "not-the-password"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2, result.stderr
    lines = [json.loads(text) for text in result.stderr.splitlines()]
    errors = [line for line in lines if line["level"] == "error"]
    assert [line["event"] for line in errors] == [
        f"NATS at {nats_server.url} refused the password of {user}"
    ]
    assert len(lines) <= 3, result.stderr  # where, why, (serve: stopped)


def _accessbot(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "accessbot", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )


def test_a_taken_health_port_ends_serve_with_exit_2_and_one_line(nats_server: EmbeddedNats) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = _env(
            nats_server.url, "approvals", nats_server.passwords["approvals"], HEALTH_PORT=str(port)
        )
        result = _accessbot("serve", "approvals", env=env)
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    lines = [json.loads(text) for text in result.stderr.splitlines()]
    errors = [line for line in lines if line["level"] == "error"]
    assert len(errors) == 1, result.stderr
    assert errors[0]["event"].startswith(f"cannot serve health on 127.0.0.1:{port}: ")
