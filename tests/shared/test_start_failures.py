"""A service that cannot start says why in one JSON line and exits 1; `accessbot dev`
prints that line's cause beside the exit code (no bare traceback, nothing to dig for)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from accessbot.natsserver import EmbeddedNats
from accessbot.service_logs import MAX_CHARS, last_error
from shared.permissions import ADMIN_USER
from tests.conftest import REPO_ROOT

# A service whose wiring asks for a bucket no one made: what a service met when a bucket
# just created in a cluster was briefly "not found" (nats-server#4600).
FAILS_TO_START = textwrap.dedent(
    """
    import os
    from shared import event_loop
    from shared.connection import make_broker
    from shared.logging import configure_logging
    from shared.runtime import Service, run_service
    from shared.settings import ServiceSettings

    settings = ServiceSettings(
        nats_url=os.environ["T_URL"], nats_user="admin", nats_password=os.environ["T_PASSWORD"]
    )
    configure_logging("t", fmt="json")

    async def wire(js):
        await js.key_value("no_such_bucket")

    service = Service("t", settings, make_broker(settings, name="t"), on_connected=[wire])
    event_loop.run(run_service(service))
    """
)


@pytest.mark.e2e
def test_a_failed_start_is_one_json_line_and_exit_code_1(
    nats_server: EmbeddedNats, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NATS_", "LOG_"))}
    env |= {"T_URL": nats_server.url, "T_PASSWORD": nats_server.passwords[ADMIN_USER]}
    done = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", FAILS_TO_START],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 1, done.stderr
    records = [json.loads(line) for line in done.stderr.splitlines()]  # every line is JSON
    failed = [r for r in records if r["event"] == "service.start_failed"]
    assert len(failed) == 1, records
    assert failed[0]["level"] == "error"
    assert "BucketNotFoundError" in failed[0]["reason"]
    assert "Traceback" in failed[0]["exception"]  # kept for whoever debugs, inside the line
    assert records[-1]["event"] == "service.stopped"

    log = tmp_path / "t.log"
    log.write_text(done.stderr)
    assert last_error(log, "t") == f"service.start_failed ({failed[0]['reason']})"


def test_last_error_reads_the_newest_error_and_stays_short(tmp_path: Path) -> None:
    log = tmp_path / "intake.log"
    assert last_error(log, "intake") is None  # no log yet: nothing to say, no error
    lines = [
        {"event": "provision.drift", "level": "error", "hint": "fix the stream"},
        {"event": "service.ready", "level": "info"},
        "Traceback (most recent call last):",  # not ours: skipped, never printed
        {"event": "x" * 1000, "level": "critical"},
        {"event": "service.stopped", "level": "info"},
    ]
    log.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    said = last_error(log, "intake")
    assert said is not None
    assert len(said) == MAX_CHARS
    assert said.endswith("…")
    lines.pop(3)
    log.write_text("\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines) + "\n")
    assert last_error(log, "intake") == "provision.drift (fix the stream)"
    log.write_text('{"event": "service.ready", "level": "info"}\n')
    assert last_error(log, "intake") is None
    # Before logging runs, a bad setting is one `<service>: <problem>` line (shared.startup).
    log.write_text("intake: invalid settings: SLACK_MODE: Input should be 'socket' or 'http'\n")
    assert (
        last_error(log, "intake")
        == "invalid settings: SLACK_MODE: Input should be 'socket' or 'http'"
    )
    assert last_error(log, "grants") is None
