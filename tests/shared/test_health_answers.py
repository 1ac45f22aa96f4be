"""Whose health answer it is: dev and the harness accept readiness only from the process
they started (shared.health.answered_by), and dev knows when a service lost its health
port to another program before binding it."""

from __future__ import annotations

import json
from pathlib import Path

from accessbot.dev import lost_its_health_port
from shared.health import answered_by


def test_an_answer_counts_only_from_the_process_it_names() -> None:
    body = json.dumps({"service": "notifier", "pid": 4242, "ready": True}).encode()
    assert answered_by(body, 4242)
    assert not answered_by(body, 4243)  # another notifier, another worker's, say


def test_an_answer_without_a_pid_or_not_json_is_nobody_s() -> None:
    assert not answered_by(b'{"service": "notifier", "ready": true}', 4242)
    assert not answered_by(b"<html>hello</html>", 4242)
    assert not answered_by(b"[4242]", 4242)


def test_a_service_that_lost_its_health_port_is_told_from_other_failures(tmp_path: Path) -> None:
    log = tmp_path / "notifier.log"
    line = {  # as shared.runtime logs a HealthPortError
        "hint": "set HEALTH_PORT to a free port",
        "event": "cannot serve health on 127.0.0.1:10120: error while attempting to bind on "
        "address ('127.0.0.1', 10120): address already in use",
        "service": "notifier",
        "level": "error",
    }
    log.write_text(json.dumps(line) + "\n", encoding="utf-8")
    assert lost_its_health_port("notifier", 10120, tmp_path)
    assert not lost_its_health_port("notifier", 10121, tmp_path)  # not the port dev gave it
    other = {"event": "service.start_failed", "reason": "bad token", "level": "error"}
    log.write_text(json.dumps(other) + "\n", encoding="utf-8")
    assert not lost_its_health_port("notifier", 10120, tmp_path)
