"""`accessbot replicas`: bad input and an unreachable NATS are one line, no traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from accessbot.natsserver import free_port

pytestmark = pytest.mark.e2e


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NATS_")}
    env["NATS_URL"] = f"nats://127.0.0.1:{free_port()}"
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "accessbot", "replicas", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_more_replicas_than_jetstream_allows_is_refused() -> None:
    done = _run("--set", "7")
    assert done.returncode == 2
    assert done.stderr.strip() == "accessbot replicas: --set takes 1 to 5"


def test_an_unreachable_nats_is_one_line() -> None:
    done = _run()
    assert done.returncode == 1
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("accessbot replicas: cannot reach NATS at nats://127.0.0.1:")
    assert "Traceback" not in done.stderr
