"""A whole request, through the real notifier, NATS and the Slack emulator."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.slack import SlackEmulator
from shared.consumers import consumers_of
from shared.contracts.events import ApprovalMode, Message
from shared.contracts.subjects import ACCESS_STREAM
from shared.slack_ids import ActionId
from tests.notifier import notifier_factories as f
from tests.notifier.notifier_harness import (
    BOT_TOKEN,
    BREAK_GLASS_PROFILE,
    USER_IDS,
    Outbox,
    history,
    running,
    wait_idle,
    workspace,
    write_profiles,
)

LIFECYCLE: list[Message] = [
    f.submitted(),
    f.approval_requested(),  # Alice and Bob, both needed
    f.refused(),  # Mallory pressed Approve; she is not an approver
    f.approved(),  # quorum reached
    f.applied(),
    f.revoked(),
]


def _actions(version: dict[str, Any]) -> set[str]:
    return {
        element["action_id"]
        for block in version["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def _method_counts(emu: SlackEmulator) -> dict[str, int]:
    counts: dict[str, int] = {}
    for call in emu.api_calls:
        if call.ok:
            counts[call.method] = counts.get(call.method, 0) + 1
    return counts


def _everything(emu: SlackEmulator) -> dict[str, Any]:
    dm = {name: history(emu, emu.dm_channel(uid)) for name, uid in USER_IDS.items()}
    return {
        **{f"{name}_dm": messages for name, messages in dm.items()},
        "audit": history(emu, f.AUDIT_CHANNEL),
    }


async def test_full_lifecycle_posts_and_updates_exactly_what_people_should_see(
    nats_server: EmbeddedNats,
    admin_js: JetStreamContext,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    # The client's own logger (slack_sdk's BaseClient), not only its parent: a logging
    # set-up earlier in the same process may have given it a level (as in test_slack_web).
    caplog.set_level(logging.DEBUG, logger="slack_sdk")
    caplog.set_level(logging.DEBUG, logger="slack_sdk.web.async_base_client")
    profiles = write_profiles(tmp_path)
    async with SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu:
        async with running(nats_server, profiles, emu):
            outbox = Outbox(admin_js)
            for event in LIFECYCLE:
                await outbox.publish(event)
        seen = _everything(emu)

    requester = seen["dave_dm"]
    assert len(requester) == 1, "one DM for the requester, updated in place"
    steps = [_actions(v) for v in requester[0]["versions"]]
    assert steps == [
        {ActionId.CANCEL.value},  # submitted
        {ActionId.CANCEL.value},  # waiting for Alice and Bob
        set(),  # approved: applying, no access yet
        {ActionId.EXTEND.value, ActionId.REVOKE.value},  # applied
        {ActionId.REQUEST_AGAIN.value},  # revoked: the form again, filled in
    ]
    assert "Access granted" not in str(requester[0]["versions"][:3])
    for approver in ("alice_dm", "bob_dm"):  # quorum: both copies updated
        (copy,) = seen[approver]
        assert [_actions(v) for v in copy["versions"]] == [
            {ActionId.APPROVE.value, ActionId.DENY.value, ActionId.OPEN_DEVICE.value},
            set(),
        ]
        assert "Approved" in copy["versions"][-1]["text"]
    (refusal,) = seen["mallory_dm"]
    assert "did not count" in refusal["versions"][0]["text"]
    audit = seen["audit"]
    assert audit[0]["thread_of"] is None
    assert len(audit[0]["versions"]) == 5  # submitted, pending, approved, active, revoked
    assert [m["thread_of"] for m in audit[1:]] == [0] * len(LIFECYCLE)
    assert _method_counts(emu) == {
        "auth.test": 1,
        "users.lookupByEmail": 2,  # Alice and Bob; Dave and Mallory came with Slack ids
        "conversations.open": 4,
        "chat.postMessage": 1 + 2 + 1 + 1 + len(LIFECYCLE),
        "chat.update": 4 + 2 + 4,
    }
    f.assert_golden("lifecycle", seen)
    logged = capsys.readouterr()
    assert "slack.posted" in logged.out + logged.err, "the notifier's own log lines were seen"
    assert "chat.postMessage" in caplog.text, "slack_sdk's debug log was seen"
    assert BOT_TOKEN not in logged.out + logged.err + caplog.text


async def test_redelivering_every_event_posts_nothing_new(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    profiles = write_profiles(tmp_path)
    async with SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu:
        async with running(nats_server, profiles, emu):
            outbox = Outbox(admin_js)
            for event in LIFECYCLE:
                await outbox.publish(event)
        before = _everything(emu)
        calls_before = len(emu.api_calls)
        # Drop the durable consumers: a new replica gets every event delivered again.
        for spec in consumers_of("notifier"):
            await admin_js.delete_consumer(ACCESS_STREAM, spec.durable)
        async with running(nats_server, profiles, emu):
            await wait_idle(admin_js)
            redelivered = [
                (await admin_js.consumer_info(ACCESS_STREAM, s.durable)).delivered.stream_seq
                for s in consumers_of("notifier")
            ]
        new_calls = [c.method for c in emu.api_calls[calls_before:]]
        after = _everything(emu)

    assert max(redelivered) == len(LIFECYCLE), "every event was delivered again"
    assert new_calls == ["auth.test"], "nothing posted, updated or looked up again"
    assert after == before


async def test_break_glass_access_alerts_the_audit_channel_loudly(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    profile = BREAK_GLASS_PROFILE
    async with SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu:
        async with running(nats_server, write_profiles(tmp_path), emu):
            outbox = Outbox(admin_js)
            await outbox.publish(f.submitted(profile=profile))
            await outbox.publish(f.approved(profile=profile, mode=ApprovalMode.BREAK_GLASS))
            await outbox.publish(f.applied(profile=profile))
        channel = emu.messages(f.AUDIT_CHANNEL)
        requester = emu.dms(USER_IDS["dave"])

    top_level = [m for m in channel if m.thread_ts is None]
    assert len(top_level) == 2  # the request's status message and one alert, not in a thread
    alert = top_level[1]
    assert alert.text.startswith(":rotating_light: <!here> *Break-glass access*")
    assert "Break glass" in alert.text
    assert "*Active* until" in top_level[0].text
    assert len(requester) == 1
    assert "Access granted" in requester[0].text
