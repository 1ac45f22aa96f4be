"""`accessbot deadletter list|replay` as the admin NATS user, end to end."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import pytest
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from shared.contracts.examples import EXAMPLES
from shared.contracts.subjects import DEADLETTER_STREAM, Subject, deadletter_replay_subject
from shared.deadletter import DeadLetterRecord, OriginalMessage
from shared.deadlettering import record_dead_letter
from shared.ids import new_id
from shared.publishing import EventPublisher

pytestmark = pytest.mark.e2e

CONSUMER = "notifier_request_submitted"


async def accessbot(server: EmbeddedNats, *args: str) -> tuple[int, str, str]:
    env = {
        **os.environ,
        "NATS_URL": server.url,
        "NATS_PASSWORD": server.passwords["admin"],
    }
    env.pop("NATS_USER", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "accessbot", "deadletter", *args,
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode is not None
    return proc.returncode, stdout.decode(), stderr.decode()


async def dead_letter(js: JetStreamContext) -> str:
    """Publish an event and record it as dead-lettered by the notifier; its event id."""
    event = EXAMPLES[Subject.REQUEST_SUBMITTED]
    event_id = new_id()
    ack = await EventPublisher(js, source="accessbot/intake").publish(event, event_id=event_id)
    stored = await js.get_msg("ACCESS", ack.seq)
    record = DeadLetterRecord(
        service="notifier",
        consumer=CONSUMER,
        stream="ACCESS",
        stream_sequence=ack.seq,
        subject=Subject.REQUEST_SUBMITTED.value,
        event_id=event_id,
        request_id=event.request_id,
        deliveries=20,
        last_error="SlackObjectFormationError: section text over 3000\nsecond line",
        source="handler",
        recorded_at=datetime(2026, 12, 1, 9, 0, tzinfo=UTC),
        message=OriginalMessage.of(stored.subject or "", stored.headers, stored.data or b""),
    )
    assert await record_dead_letter(js, record)
    return event_id


async def test_list_shows_what_waits_and_replay_takes_it_off_the_list(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    code, out, err = await accessbot(nats_server, "list")
    assert (code, out, err) == (0, "no dead-lettered messages\n", "")
    event_id = await dead_letter(admin_js)

    code, out, _ = await accessbot(nats_server, "list")
    assert code == 0
    header, row = out.splitlines()
    assert header.split()[:3] == ["EVENT", "ID", "CONSUMER"]
    assert row.split()[:3] == [event_id, CONSUMER, "access.request.submitted"]
    # one line per record: the error's newline is gone and it is clipped to its column
    assert row.endswith("SlackObjectFormationError: section text over 3000 second li…")

    code, out, _ = await accessbot(nats_server, "list", "--json")
    [listed] = [json.loads(line) for line in out.splitlines()]
    assert (listed["event_id"], listed["consumer"], listed["deliveries"]) == (
        event_id,
        CONSUMER,
        20,
    )
    assert listed["message"]["subject"] == "access.request.submitted"

    code, out, err = await accessbot(nats_server, "replay", event_id)
    assert (code, err) == (0, "")
    assert out == f"replayed {event_id} to {CONSUMER} (notifier)\n"
    replayed = await admin_js.get_last_msg(DEADLETTER_STREAM, deadletter_replay_subject(CONSUMER))
    assert replayed.headers is not None
    assert replayed.headers["ce-id"] == event_id
    assert replayed.headers["Nats-Msg-Id"] != event_id  # its own id, not the event's

    code, out, _ = await accessbot(nats_server, "list")
    assert (code, out) == (0, "no dead-lettered messages\n")
    code, _, err = await accessbot(nats_server, "replay", event_id)  # only once
    assert code == 2
    assert err == (
        f"accessbot deadletter replay: no dead-lettered message {event_id!r} waits for a replay\n"
    )


async def test_replay_of_an_unknown_id_is_one_line_and_exit_2(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    await dead_letter(admin_js)
    code, out, err = await accessbot(nats_server, "replay", "01JDQ3F9A1B2C3D4E5F6G7H8J9")
    assert (code, out) == (2, "")
    assert err.count("\n") == 1
    assert "Traceback" not in err
    assert "no dead-lettered message '01JDQ3F9A1B2C3D4E5F6G7H8J9'" in err


async def test_only_the_admin_may_replay(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    event_id = await dead_letter(admin_js)
    env_user = {"NATS_USER": "notifier", "NATS_PASSWORD": nats_server.passwords["notifier"]}
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "accessbot", "deadletter", "replay", event_id,
        env={**os.environ, "NATS_URL": nats_server.url, **env_user},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 1
    [line] = stderr.decode().splitlines()
    assert "permissions violation" in line
    assert "it needs the admin NATS user" in line
    info = await admin_js.stream_info(DEADLETTER_STREAM)
    assert info.state.messages == 1  # nothing marked, nothing re-delivered


async def test_list_with_nats_unreachable_is_one_line_and_exit_1_not_a_hang() -> None:
    from accessbot.natsserver import free_port

    env = {**os.environ, "NATS_URL": f"nats://127.0.0.1:{free_port()}", "NATS_PASSWORD": "x"}
    env.pop("NATS_USER", None)
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "accessbot", "deadletter", "list",
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    err = stderr.decode()
    assert proc.returncode == 1
    assert "cannot reach NATS" in err
    assert "Traceback" not in err
