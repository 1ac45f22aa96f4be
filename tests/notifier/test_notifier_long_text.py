"""The longest texts people may type reach everyone, through the real notifier and Slack
emulator; a message that cannot be built is skipped like one Slack refuses, never retried."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.slack import SlackEmulator
from services.notifier.bootstrap import build
from shared.consumers import consumers_of
from shared.contracts.events import Message
from shared.contracts.subjects import ACCESS_STREAM
from shared.slack_limits import MAX_REASON
from tests.notifier import notifier_factories as f
from tests.notifier.notifier_harness import (
    BOT_TOKEN,
    USER_IDS,
    Outbox,
    notifier_settings,
    running,
    workspace,
    write_profiles,
)

SPECIAL = ("&<>" * MAX_REASON)[:MAX_REASON]
SHOWN = "&amp;&lt;&gt;" * 20  # what part of it looks like once escaped


def _with(event: Message, **changes: Any) -> Message:
    return event.model_copy(update=changes)


def _latest(message: Any) -> dict[str, Any]:
    versions = [{"text": message.text, "blocks": message.blocks}, *message.updates]
    return dict(versions[-1])


async def _assert_acked_without_redelivery(js: JetStreamContext) -> None:
    for spec in consumers_of("notifier"):
        info = await js.consumer_info(ACCESS_STREAM, spec.durable)
        assert (info.num_pending, info.num_ack_pending) == (0, 0), spec.durable
        assert info.num_redelivered == 0, spec.durable


def _refused(emu: SlackEmulator) -> list[Any]:
    return [c for m in ("chat.postMessage", "chat.update") for c in emu.calls(m) if not c.ok]


async def test_a_3000_character_reason_of_special_characters_reaches_everyone(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    async with (
        SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu,
        running(nats_server, write_profiles(tmp_path), emu),
    ):
        outbox = Outbox(admin_js)
        await outbox.publish(_with(f.submitted(), reason=SPECIAL))
        await outbox.publish(_with(f.approval_requested(), reason=SPECIAL))
        asked = {name: _latest(emu.dms(USER_IDS[name])[0]) for name in ("dave", "alice", "bob")}
        await outbox.publish(_with(f.denied(), reason=SPECIAL))
        await _assert_acked_without_redelivery(admin_js)

        assert _refused(emu) == [], "Slack accepted every message"
        for name, shown in asked.items():
            assert SHOWN in str(shown["blocks"]), f"{name} sees the reason"
        assert "Waiting for approval" in str(asked["dave"]["blocks"])
        assert {"actions"} <= {b["type"] for b in asked["alice"]["blocks"]}

        # the deny reason reaches the requester, and the approvers' buttons are gone
        dave = _latest(emu.dms(USER_IDS["dave"])[0])
        assert dave["blocks"][0]["text"]["text"].startswith(":x: *Denied*")
        assert SHOWN in dave["blocks"][0]["text"]["text"]
        for name in ("alice", "bob"):
            copy = _latest(emu.dms(USER_IDS[name])[0])
            assert "actions" not in {b["type"] for b in copy["blocks"]}, name
            assert copy["blocks"][0]["text"]["text"].startswith(":x: *Denied*")

        audit = emu.messages(f.AUDIT_CHANNEL)
        status, steps = audit[0], audit[1:]
        assert SHOWN in str(_latest(status)["blocks"])
        assert ":x: *Denied*" in str(_latest(status)["blocks"])
        assert len(steps) == 3  # submitted, asked, denied
        assert all(s.thread_ts == status.ts for s in steps)
        assert SHOWN in steps[-1].blocks[0]["text"]["text"]


async def test_a_message_that_cannot_be_built_is_skipped_and_the_rest_posted_once(
    nats_server: EmbeddedNats,
    admin_js: JetStreamContext,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """A builder bug, simulated: a device link longer than a button's url may be (the
    setting's own check is bypassed). Only the approvers' copies carry that link."""
    async with SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu:
        settings = notifier_settings(nats_server, write_profiles(tmp_path), emu)
        broken = settings.model_copy(update={"tailscale_admin_url": "https://x/" + "a" * 3000})
        service = build(broken)
        await service.start()
        try:
            outbox = Outbox(admin_js)
            await outbox.publish(f.submitted())
            await outbox.publish(f.approval_requested())
            await asyncio.sleep(1.0)  # time enough for a redelivery, were there one
            await _assert_acked_without_redelivery(admin_js)
        finally:
            await service.stop()

    assert emu.dms(USER_IDS["alice"]) == []
    assert emu.dms(USER_IDS["bob"]) == []
    dave = emu.dms(USER_IDS["dave"])
    assert len(dave) == 1, "the requester's DM was posted once"
    assert "Waiting for approval" in str(_latest(dave[0])["blocks"])
    audit = emu.messages(f.AUDIT_CHANNEL)
    assert len(audit) == 3, "status message and two thread replies, each posted once"
    posts_to_audit = [
        c for c in emu.calls("chat.postMessage") if c.params.get("channel") == f.AUDIT_CHANNEL
    ]
    assert len(posts_to_audit) == 3
    logged = capsys.readouterr()
    lines = [
        line for line in (logged.out + logged.err).splitlines() if "slack.message_rejected" in line
    ]
    assert len(lines) == 2, "logged once per approver copy"
    assert all("message_formation" in line for line in lines)
