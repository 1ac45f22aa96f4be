"""`accessbot demo --console`: the scripted demo shown in the sandbox console."""

from __future__ import annotations

import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from accessbot.natsserver import free_port
from accessbot.sandbox import slack_user_id
from tests.cli.test_cli_dev import _read_until
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e


def _demo(tmp_path: Path, port: int) -> subprocess.Popen[str]:
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [
            *(sys.executable, "-m", "accessbot", "demo", "--duration", "2s"),
            *("--data-dir", str(tmp_path), "--console", "--console-port", str(port)),
        ],
        cwd=REPO_ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


@pytest.mark.slow
def test_the_console_shows_the_demo_and_stays_open_until_ctrl_c(tmp_path: Path) -> None:
    port = free_port()
    proc = _demo(tmp_path, port)
    try:
        lines = _read_until(proc, "Watch it in the sandbox console", 120)
        url = f"http://127.0.0.1:{port}/"
        assert url in lines[-1]
        page = httpx.get(url, timeout=10)
        assert page.status_code == 200
        assert "Request access" in page.text
        assert "dana@example.com" in page.text
        _read_until(proc, "The sandbox console stays open", 150)
        # The console read ACCESS as the SIEM does, and shows what Dana got in her DM.
        events = httpx.get(f"{url}api/events", timeout=10).json()["events"]
        types = [e["event"]["type"] for e in events]
        assert "io.accessbot.access.grant.applied" in types
        assert "io.accessbot.access.grant.expired" in types
        dana = httpx.get(f"{url}api/slack/{slack_user_id('dana@example.com')}", timeout=10)
        dms = dana.json()["dms"]
        assert "Demo production" in dms, dms
        assert "Deploying the hotfix for INC-4211" in dms, dms
        # ... and the dead-letter list (read as the admin), empty after a clean run
        letters = httpx.get(f"{url}api/deadletters", timeout=10).json()
        assert "error" not in letters, letters
        assert letters["records"] == []
        # A page from elsewhere cannot click through it (see emulators/console/guard.py).
        forged = httpx.post(
            f"{url}api/faults",
            content='{"target": "slack", "kind": "rate-limit"}',
            headers={"content-type": "text/plain", "origin": "https://evil.example"},
            timeout=10,
        )
        assert forged.status_code == 403, forged.text
        proc.send_signal(signal.SIGINT)
        out, _ = proc.communicate(timeout=30)
        assert proc.returncode == 0, out
        assert "Logs and data" in out
        with pytest.raises(httpx.ConnectError):
            httpx.get(url, timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()


def test_a_taken_console_port_is_one_line_before_anything_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _demo(tmp_path, port)
        out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 1
    assert f"console port {port} is already in use" in out
    assert "Traceback" not in out
    assert "Starting NATS" not in out
