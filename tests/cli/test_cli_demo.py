"""`accessbot demo` runs one request through approval to expiry and prints the timeline."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e


def test_demo_runs_a_request_to_expiry_and_prints_what_happened(tmp_path: Path) -> None:
    result = subprocess.run(  # noqa: S603 - our own CLI
        [
            sys.executable,
            "-m",
            "accessbot",
            "demo",
            "--duration",
            "2s",
            "--data-dir",
            str(tmp_path),
        ],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=150,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    subjects = [
        "access.request.submitted",
        "access.approval.requested",
        "access.decision.submitted",
        "access.request.approved",
        "access.grant.applied",
        "access.grant.expired",
    ]
    stream = out.split("Event stream", 1)[1].split("What each person saw", 1)[0]
    positions = [stream.index(s) for s in subjects]
    assert positions == sorted(positions), stream
    assert "expired: grants removed custom:demoAccess (gone)" in out
    slack = out.split("What each person saw in Slack:", 1)[1]
    assert "dana@example.com (DM)" in slack
    assert "bob@example.com (DM)" in slack
    assert "Access granted" in slack
    assert "#access-audit" in slack
    # Readable by a person: names, local times, JSON spellings, the device by its name.
    assert "@Dana asks for *Demo production*" in slack
    assert "Approved* by @Bob" in slack
    for raw in ("<@", "<!date", "{time}", "True", "False", ":white_check_mark:", ":lock:"):
        assert raw not in out, raw
    assert "custom:demoAccess=true on dana-framework" in out
    assert re.search(r"until (yesterday|today|tomorrow) \d\d:\d\d", slack), slack
    assert "on dana-framework" in stream
    assert "CNTRL" not in out, "a device shown by its node id"
