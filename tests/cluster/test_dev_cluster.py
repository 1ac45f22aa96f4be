"""`accessbot dev --cluster`: three embedded nodes on loopback, their URLs printed, the
services on all three with everything at R3; Ctrl-C leaves no process behind."""

from __future__ import annotations

import re
import signal
import subprocess
import time
import uuid
from pathlib import Path

import httpx
import pytest

from accessbot.natsserver import free_port, port_is_free
from tests.cli.test_cli_dev import (
    READY_LINE,
    _dev_env,
    _processes_with,
    _read_until,
    dev_argv,
)
from tests.conftest import REPO_ROOT
from tests.pipe_lines import lines_of

pytestmark = [pytest.mark.cluster, pytest.mark.e2e, pytest.mark.slow]


def three_free_ports() -> int:
    """A port such that it and the next two are free."""
    for _ in range(50):
        first = free_port()
        if first < 65000 and all(port_is_free("127.0.0.1", first + i) for i in range(3)):
            return first
    raise AssertionError("no three consecutive free ports")


def test_dev_cluster_prints_three_nodes_and_runs_everything_at_r3(tmp_path: Path) -> None:
    marker = uuid.uuid4().hex
    port = three_free_ports()
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        dev_argv(tmp_path / "data", devices=20, nats=("--cluster", "--nats-port", str(port))),
        cwd=REPO_ROOT,
        env=_dev_env(marker),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )  # fmt: skip
    try:
        lines = _read_until(proc, READY_LINE, timeout=120)
        nodes = [re.search(r"NATS node (n\d): (\S+) \(leaders: (\S+)/jsz\)", x) for x in lines]
        found = [(m[1], m[2], m[3]) for m in nodes if m]
        assert [(name, url) for name, url, _ in found] == [
            (f"n{i + 1}", f"nats://127.0.0.1:{port + i}") for i in range(3)
        ]
        # Every node reports the same meta leader, and ACCESS lives on all three.
        leaders = set()
        for _, _, monitor in found:
            jsz = httpx.get(f"{monitor}/jsz?accounts=true&streams=true", timeout=5).json()
            leaders.add(jsz["meta_cluster"]["leader"])
        assert len(leaders) == 1
        assert leaders <= {name for name, _, _ in found}
        access = [
            stream
            for account in jsz["account_details"]
            for stream in account.get("stream_detail") or []
            if stream["name"] == "ACCESS"
        ]
        assert access, "ACCESS is not provisioned"
        cluster = access[0]["cluster"]
        assert 1 + len(cluster["replicas"]) == 3, cluster
    finally:
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=60)
        assert proc.stdout is not None
        tail = lines_of(proc.stdout).rest()
        proc.stdout.close()
    assert code == 0, tail
    deadline = time.monotonic() + 10
    while _processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert _processes_with(marker) == []
