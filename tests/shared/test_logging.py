"""One log format for everything: our events and the libraries' records alike, as one JSON
object per line off a terminal (or with LOG_FORMAT=json), console-rendered on one.

Each case runs in a fresh interpreter: logging configuration is process-wide.
"""

from __future__ import annotations

import json
import os
import pty
import subprocess
import sys
import textwrap

import pytest

from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e

EMIT = textwrap.dedent(
    """
    import asyncio, logging, sys
    import structlog
    from shared.logging import bound_event, configure_logging, use_json, library_logger
    from shared.connection import make_broker
    from shared.settings import ServiceSettings
    configure_logging("approvals", fmt=sys.argv[1])
    broker = make_broker(ServiceSettings(nats_user="approvals"), name="t")
    log = structlog.get_logger("accessbot.test")
    with bound_event("R1", "E1"):
        log.info("handled", outcome="ok")
        logging.getLogger("faststream.broker").warning("Connection broken", extra={"subject": "s"})
    try:
        raise ValueError("boom")
    except ValueError as exc:
        logging.getLogger("nats.aio.client").error("nats: encountered error", exc_info=exc)
    logging.getLogger("asyncio").error("Task exception was never retrieved")
    logging.getLogger("aiohttp.server").error("Error handling request")
    logging.getLogger("faststream").info("callback for Task-9 is being executed...")
    log.debug("not shown at INFO")
    # FastStream's own colourised handler is gone, and the broker logs through ours.
    faststream = logging.getLogger("faststream")
    print(len(faststream.handlers), faststream.propagate, use_json("auto"))
    """
)


def _emit(fmt: str, *, stderr: int | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", EMIT, fmt],
        cwd=REPO_ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("LOG_")},
        capture_output=stderr is None,
        stderr=stderr,
        stdout=subprocess.PIPE if stderr is not None else None,
        text=True,
        timeout=60,
        check=True,
    )


def test_every_line_is_one_json_object_with_name_level_service_and_request() -> None:
    result = _emit("json")
    lines = [json.loads(line) for line in result.stderr.splitlines()]
    assert "\x1b[" not in result.stderr  # no colour codes
    for line in lines:
        assert {"event", "level", "logger", "service", "timestamp"} <= line.keys(), line
        assert line["service"] == "approvals"
    by_logger = {line["logger"]: line for line in lines}
    assert set(by_logger) == {
        "accessbot.test",
        "faststream.broker",
        "nats.aio.client",
        "asyncio",
        "aiohttp.server",
    }
    ours = by_logger["accessbot.test"]
    assert (ours["event"], ours["level"], ours["request_id"]) == ("handled", "info", "R1")
    foreign = by_logger["faststream.broker"]
    assert (foreign["level"], foreign["request_id"], foreign["subject"]) == ("warning", "R1", "s")
    failure = by_logger["nats.aio.client"]
    assert failure["level"] == "error"
    assert "ValueError: boom" in failure["exception"]  # the traceback, inside the one line
    # FastStream's INFO chatter (a line per subscriber and per task callback) is not shown.
    assert not any("callback for Task" in str(line["event"]) for line in lines)
    assert result.stdout.split() == ["0", "True", "True"]


def test_auto_renders_for_a_person_on_a_terminal() -> None:
    leader, follower = pty.openpty()
    try:
        result = _emit("auto", stderr=follower)
        os.close(follower)
        follower = -1
        chunks = []
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:
                break
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(leader)
        if follower >= 0:
            os.close(follower)
    text = b"".join(chunks).decode()
    assert "handled" in text
    assert "Connection broken" in text
    assert not any(line.lstrip().startswith("{") for line in text.splitlines())
    assert result.stdout.split()[-1] == "False"  # use_json("auto") on a terminal
