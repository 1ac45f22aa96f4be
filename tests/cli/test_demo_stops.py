"""Ctrl-C (or SIGTERM) during `accessbot demo` stops it and everything it started, promptly."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from pathlib import Path

import httpx
import pytest

from accessbot.demo_command import STOP_SECONDS as DEMO_STOP_SECONDS
from accessbot.harness import ServiceProcess
from accessbot.natsserver import free_port
from shared.health import answered_by
from tests.cli.test_cli_dev import _dev_env, _processes_with
from tests.conftest import REPO_ROOT, ready_health_server

pytestmark = pytest.mark.e2e

# The demo's own bound (each part SIGKILLed at its limit), and a second to be reaped.
PROMPTLY_SECONDS = DEMO_STOP_SECONDS + 1.0


def _wait_for_text(path: Path, text: str, proc: subprocess.Popen[bytes], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc.poll() is None:
        if text in path.read_text(encoding="utf-8", errors="replace"):
            return
        time.sleep(0.2)
    pytest.fail(f"{text!r} not seen:\n{path.read_text(encoding='utf-8', errors='replace')}")


@pytest.mark.slow
@pytest.mark.parametrize("ctrl_c", [True, False], ids=["ctrl-c to the group", "sigterm"])
def test_a_signal_mid_demo_stops_the_demo_and_its_processes(
    tmp_path: Path, *, ctrl_c: bool
) -> None:
    marker = uuid.uuid4().hex
    output = tmp_path / "demo.out"
    data = str(tmp_path / "data")
    with output.open("wb") as sink:
        proc = subprocess.Popen(  # noqa: S603 - our own CLI
            [sys.executable, "-m", "accessbot", "demo", "--duration", "60", "--data-dir", data],
            cwd=REPO_ROOT,
            env=_dev_env(marker),
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group, as a terminal's foreground job
        )
    try:
        _wait_for_text(output, "waiting for the 60s grant to expire", proc, timeout=120)
        # nats-server and four services (the emulators run inside the demo process)
        assert len(_processes_with(marker)) >= 6
        started = time.monotonic()
        if ctrl_c:
            os.killpg(proc.pid, signal.SIGINT)  # what Ctrl-C in a terminal does
        else:
            proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=60)
        took = time.monotonic() - started
        while _processes_with(marker) and time.monotonic() - started < 60:
            time.sleep(0.1)
        all_gone = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    said = output.read_text(encoding="utf-8")
    assert code == 130, said
    assert took < PROMPTLY_SECONDS, (took, said)
    assert all_gone < PROMPTLY_SECONDS, _processes_with(marker)
    assert "stopped, and so is everything it started" in said
    assert "killed" not in said  # each service stopped within its own bound
    assert "Traceback" not in said


_IGNORES_SIGTERM = (
    "import signal, sys, time\n"
    "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
    "print('ready', flush=True)\n"
    "time.sleep(60)\n"
)


def _ignoring_sigterm() -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(  # noqa: S603 - a fixed script
        [sys.executable, "-c", _IGNORES_SIGTERM], stdout=subprocess.PIPE
    )
    assert proc.stdout is not None
    assert proc.stdout.readline() == b"ready\n"  # SIGTERM is ignored from here
    proc.stdout.close()
    return proc


async def test_a_service_that_ignores_sigterm_is_killed_at_the_limit(tmp_path: Path) -> None:
    stubborn = ServiceProcess("grants", {}, tmp_path / "grants.log", health_port=0)
    proc = stubborn.process = _ignoring_sigterm()
    started = time.monotonic()
    killed = await stubborn.stop(timeout=0.5)
    took = time.monotonic() - started
    assert killed
    assert proc.returncode == -signal.SIGKILL
    assert 0.5 <= took < 3.0
    assert await stubborn.stop() is False  # nothing left to stop


async def test_a_ready_answer_from_another_process_on_the_port_is_not_taken_for_ready(
    tmp_path: Path,
) -> None:
    # What took the service's health port before the service could bind it: a health
    # endpoint of another process (this one), ready.
    port = free_port()
    other = await ready_health_server("grants", port)
    service = ServiceProcess("grants", {}, tmp_path / "grants.log", health_port=port)
    service.process = _ignoring_sigterm()  # alive, never serving health itself
    try:
        async with httpx.AsyncClient() as client:
            answer = await client.get(f"http://127.0.0.1:{port}/readyz")
        assert answer.status_code == 200
        assert answered_by(answer.content, os.getpid())  # the answer names who gave it
        with pytest.raises(RuntimeError, match=r"grants not ready in 1\.0s"):
            await service.wait_ready(timeout=1.0)
    finally:
        await service.stop(timeout=0.5)
        await other.stop()
