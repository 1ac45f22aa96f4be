"""SIEM export and tail read ACCESS as the read-only siem user."""

from __future__ import annotations

import asyncio
import io
import json
import os
import subprocess
import sys
from datetime import UTC, datetime, timedelta

import pytest
from nats.js import JetStreamContext

from accessbot import audit
from accessbot.audit import export, tail
from accessbot.natsserver import EmbeddedNats
from shared.connection import connect
from shared.examples import EXAMPLES
from shared.publishing import EventPublisher
from shared.subjects import Subject
from tests.conftest import settings_for


async def test_export_prints_one_cloudevent_per_line_and_reports_invalid(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    publisher = EventPublisher(admin_js, source="accessbot/test")
    for subject in (Subject.REQUEST_SUBMITTED, Subject.REQUEST_APPROVED, Subject.GRANT_APPLIED):
        await publisher.publish(EXAMPLES[subject])
    await admin_js.publish("access.grant.expired", b"garbage")
    nc = await connect(settings_for(nats_server, "siem"), name="t")
    out, err = io.StringIO(), io.StringIO()
    try:
        counts = await export(nc, since=None, until=None, out=out, err=err)
    finally:
        await nc.close()
    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [d["type"] for d in lines] == [
        "io.accessbot.access.request.submitted",
        "io.accessbot.access.request.approved",
        "io.accessbot.access.grant.applied",
    ]
    assert all(d["specversion"] == "1.0" and d["source"] == "accessbot/test" for d in lines)
    assert lines[0]["data"]["profile_id"] == "prod"
    assert counts.written == 3
    assert counts.invalid == 1
    assert "stream seq 4 on access.grant.expired: not a valid event" in err.getvalue()


async def test_export_respects_since_and_until(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    publisher = EventPublisher(admin_js, source="t")
    await publisher.publish(EXAMPLES[Subject.REQUEST_SUBMITTED])
    await asyncio.sleep(1.1)
    middle = datetime.now(UTC)
    await publisher.publish(EXAMPLES[Subject.REQUEST_APPROVED])
    nc = await connect(settings_for(nats_server, "siem"), name="t")
    try:
        after, before = io.StringIO(), io.StringIO()
        await export(nc, since=middle, until=None, out=after, err=io.StringIO())
        await export(nc, since=None, until=middle, out=before, err=io.StringIO())
        none = io.StringIO()
        await export(nc, since=middle + timedelta(hours=1), until=None, out=none, err=none)
    finally:
        await nc.close()
    assert [json.loads(x)["type"] for x in after.getvalue().splitlines()] == [
        "io.accessbot.access.request.approved"
    ]
    assert [json.loads(x)["type"] for x in before.getvalue().splitlines()] == [
        "io.accessbot.access.request.submitted"
    ]
    assert none.getvalue() == ""


async def test_tail_prints_new_events_as_they_arrive(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    publisher = EventPublisher(admin_js, source="t")
    await publisher.publish(EXAMPLES[Subject.REQUEST_SUBMITTED])  # before: not shown
    nc = await connect(settings_for(nats_server, "siem"), name="t")
    out = io.StringIO()
    stop = asyncio.Event()
    task = asyncio.create_task(tail(nc, since=None, stop=stop.is_set, out=out))
    await asyncio.sleep(0.5)
    await publisher.publish(EXAMPLES[Subject.GRANT_REVOKED])
    for _ in range(100):
        if out.getvalue():
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    await nc.close()
    assert [json.loads(x)["type"] for x in out.getvalue().splitlines()] == [
        "io.accessbot.access.grant.revoked"
    ]


@pytest.mark.e2e
async def test_export_command_uses_siem_user(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    await EventPublisher(admin_js, source="t").publish(EXAMPLES[Subject.GRANT_EXPIRED])
    env = {**os.environ, **nats_server.env_for("siem")}
    env.pop("NATS_USER")  # the command defaults to the siem user
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "accessbot", "audit", "export", "--format", "jsonl",
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    stdout, stderr = await asyncio.wait_for(proc.communicate(), timeout=60)
    assert proc.returncode == 0, stderr.decode()
    lines = stdout.decode().splitlines()
    assert [json.loads(x)["type"] for x in lines] == ["io.accessbot.access.grant.expired"]
    assert "exported 1 events" in stderr.decode()


async def test_export_reads_by_sequence_across_windows_and_gaps(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(audit, "WINDOW", 2)
    publisher = EventPublisher(admin_js, source="t")
    subjects = [Subject.REQUEST_SUBMITTED, Subject.REQUEST_APPROVED, Subject.GRANT_APPLIED]
    subjects += [Subject.GRANT_EXTENDED, Subject.GRANT_EXPIRED]
    for subject in subjects:
        await publisher.publish(EXAMPLES[subject])
    await admin_js.delete_msg("ACCESS", 3)  # a gap, as a deleted message leaves
    # Read as admin: only ACCESSBOT's ACCESS can have a gap made (nobody may delete from
    # the siem user's copy); the reading is the same.
    nc = await connect(settings_for(nats_server, "admin"), name="t")
    out = io.StringIO()
    try:
        counts = await export(nc, since=None, until=None, out=out, err=io.StringIO())
    finally:
        await nc.close()
    expected = [s for s in subjects if s is not Subject.GRANT_APPLIED]
    assert [json.loads(x)["type"] for x in out.getvalue().splitlines()] == [
        f"io.accessbot.{s.value}" for s in expected
    ]
    assert counts.written == 4


async def test_tail_since_on_an_empty_stream_waits_for_the_first_event(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    """An empty stream reports first sequence 0, which a by-sequence get refuses (400)."""
    nc = await connect(settings_for(nats_server, "siem"), name="t")
    out = io.StringIO()
    stop = asyncio.Event()
    since = datetime.now(UTC) - timedelta(hours=1)
    task = asyncio.create_task(tail(nc, since=since, stop=stop.is_set, out=out))
    await asyncio.sleep(0.5)
    assert not task.done()  # still following, not failed
    await EventPublisher(admin_js, source="t").publish(EXAMPLES[Subject.GRANT_REVOKED])
    for _ in range(100):
        if out.getvalue():
            break
        await asyncio.sleep(0.05)
    stop.set()
    await task
    await nc.close()
    assert [json.loads(x)["type"] for x in out.getvalue().splitlines()] == [
        "io.accessbot.access.grant.revoked"
    ]
