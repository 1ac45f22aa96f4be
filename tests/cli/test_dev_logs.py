"""Every log line of a dev run is one JSON object with our keys, and an idle, healthy
system logs no ERROR (FastStream's pull loop used to, about 5 s after every start)."""

from __future__ import annotations

import json
import signal
import subprocess
import time
import uuid
from pathlib import Path

import pytest

from shared.gc_policy import GEN0_THRESHOLD
from shared.permissions import SERVICES
from tests.cli.test_cli_dev import READY_LINE, _dev_env, dev_argv
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e

IDLE_SECONDS = 12.0  # more than two of the subscribers' 5 s fetch timeouts
KEYS = {"event", "level", "logger", "service", "timestamp"}


@pytest.mark.slow
def test_a_dev_run_logs_only_json_lines_and_no_error_while_idle(tmp_path: Path) -> None:
    output = tmp_path / "dev.out"
    data = tmp_path / "data"
    with output.open("wb") as sink:
        proc = subprocess.Popen(  # noqa: S603 - our own CLI
            dev_argv(data, devices=20),
            cwd=REPO_ROOT,
            env=_dev_env(uuid.uuid4().hex),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while READY_LINE not in output.read_text(encoding="utf-8"):
            assert proc.poll() is None, output.read_text(encoding="utf-8")
            assert time.monotonic() < deadline, output.read_text(encoding="utf-8")
            time.sleep(0.3)
        time.sleep(IDLE_SECONDS)
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
    assert code == 0, output.read_text(encoding="utf-8")
    logs = sorted((data / "logs").glob("*.log"))
    assert {f"{s}.log" for s in SERVICES} <= {p.name for p in logs}
    for path in logs:
        text = path.read_text(encoding="utf-8")
        assert "\x1b[" not in text, path  # no colour codes
        service = path.name.removesuffix(".log")
        lines = [json.loads(line) for line in text.splitlines()]  # each one JSON object
        for line in lines:
            assert line.keys() >= KEYS, (path.name, line)
            assert line["level"] not in ("error", "critical"), (path.name, line)
        if service in SERVICES:
            assert lines, path
            assert {line["service"] for line in lines} == {service}
            events = [line["event"] for line in lines]
            assert "service.ready" in events
            ready = next(line for line in lines if line["event"] == "service.ready")
            assert ready["event_loop"] == "uvloop", ready  # a dependency on Linux
            # shared.gc_policy: once started, what starting built is left out of collections
            frozen = next(line for line in lines if line["event"] == "service.gc_frozen")
            assert frozen["objects"] > 10_000, frozen
            assert frozen["gen0_threshold"] == GEN0_THRESHOLD, frozen
            # frozen once everything is started (the last on_started hook), then ready
            assert events.index("service.gc_frozen") < events.index("service.ready")
            assert events[-1] == "service.stopped", events[-5:]
            assert not any("callback for Task" in str(event) for event in events)
