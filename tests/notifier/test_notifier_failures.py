"""Slack failing: rate limits, unreachable channels and people, errors mid fan-out."""

from __future__ import annotations

from pathlib import Path

import structlog
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.slack import SlackEmulator
from shared.consumers import consumers_of
from shared.contracts.events import Person
from shared.contracts.subjects import ACCESS_STREAM
from tests.notifier import notifier_factories as f
from tests.notifier.notifier_harness import (
    ARCHIVED_CHANNEL,
    BOT_TOKEN,
    BROKEN_PROFILE,
    MISSING_CHANNEL,
    PRIVATE_CHANNEL,
    Outbox,
    running,
    workspace,
    write_profiles,
)

DAVE_ID = "U0DAVE"


def _posts_to(emu: SlackEmulator, channel: str) -> int:
    return sum(1 for c in emu.calls("chat.postMessage") if c.params.get("channel") == channel)


async def _assert_all_acked(js: JetStreamContext) -> None:
    for spec in consumers_of("notifier"):
        info = await js.consumer_info(ACCESS_STREAM, spec.durable)
        assert (info.num_pending, info.num_ack_pending) == (0, 0), spec.durable


async def test_a_429_burst_is_waited_out_and_nothing_is_lost(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    async with (
        SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu,
        running(nats_server, write_profiles(tmp_path), emu),
    ):
        emu.rate_limit_next("chat.postMessage", count=2, retry_after=1)
        outbox = Outbox(admin_js)
        await outbox.publish(f.submitted())
        await outbox.publish(f.approval_requested())  # later events still flow
        await _assert_all_acked(admin_js)

    posts = emu.calls("chat.postMessage")
    limited = [c for c in posts if c.status == 429]
    assert len(limited) == 2
    retried = posts[posts.index(limited[-1]) + 1]
    assert retried.time - limited[-1].time >= 1.0, "Retry-After was honoured"
    assert len(emu.dms(DAVE_ID)) == 1, "the requester's DM was posted once"
    assert len(emu.messages(f.AUDIT_CHANNEL)) == 3  # status + two thread replies
    assert "Waiting for approval" in emu.dms(DAVE_ID)[0].text
    assert len(emu.dms("U0ALICE")) == len(emu.dms("U0BOB")) == 1


async def test_unreachable_channels_and_people_are_reported_once_and_never_block(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    ghost = Person(email="ghost@example.com")  # no such Slack user
    asking = f.approval_requested(profile=BROKEN_PROFILE).model_copy(
        update={"approvers": [ghost, f.ALICE], "approvals_required": 1}
    )
    approved = f.approved(profile=BROKEN_PROFILE).model_copy(update={"approvers": [f.ALICE]})
    async with (
        SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu,
        running(nats_server, write_profiles(tmp_path), emu),
    ):
        outbox = Outbox(admin_js)
        await outbox.publish(f.submitted(profile=BROKEN_PROFILE))
        await outbox.publish(asking)
        await outbox.publish(approved)
        await outbox.publish(f.applied(profile=BROKEN_PROFILE))
        await _assert_all_acked(admin_js)

    # The reachable audit channel got everything, though a broken one comes first.
    audit = emu.messages(f.AUDIT_CHANNEL)
    assert len(audit) == 1 + 4
    assert "*Active* until" in audit[0].text
    # Each broken channel was tried once, then skipped.
    for channel in (ARCHIVED_CHANNEL, PRIVATE_CHANNEL, MISSING_CHANNEL):
        assert _posts_to(emu, channel) == 1, channel
    # The requester was told once about each, and the request went on.
    dave = emu.dms(DAVE_ID)
    status, notices = dave[0], [m.text for m in dave[1:]]
    assert "Access granted" in status.text
    assert len(notices) == 4
    for channel, error in (
        (ARCHIVED_CHANNEL, "is_archived"),
        (PRIVATE_CHANNEL, "not_in_channel"),
        (MISSING_CHANNEL, "channel_not_found"),
    ):
        assert sum(channel in n and error in n for n in notices) == 1, channel
    assert sum("ghost@example.com" in n and "users_not_found" in n for n in notices) == 1
    assert len(emu.dms("U0ALICE")) == 1


async def test_a_slack_error_mid_fan_out_redoes_only_what_is_missing(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    async with (
        SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu,
        running(nats_server, write_profiles(tmp_path), emu),
    ):
        outbox = Outbox(admin_js)
        await outbox.publish(f.submitted())
        await outbox.publish(f.approval_requested())
        updates_before = len(emu.calls("chat.update"))
        # approved: four updates succeed, then the thread reply fails (retryable)
        emu.fail_next("chat.postMessage", error="internal_error")
        await outbox.publish(f.approved())
        await _assert_all_acked(admin_js)
        redelivered = await admin_js.consumer_info(ACCESS_STREAM, "notifier_request_approved")

    assert redelivered.delivered.consumer_seq == 2, "the one event was delivered twice"
    failed = [c for c in emu.calls("chat.postMessage") if c.error == "internal_error"]
    assert len(failed) == 1
    # requester, Alice, Bob and the audit message: updated once each, not again
    assert len(emu.calls("chat.update")) - updates_before == 4
    replies = [m for m in emu.messages(f.AUDIT_CHANNEL) if m.thread_ts]
    assert [r.text.split()[0] for r in replies] == [
        ":inbox_tray:",
        ":bell:",
        ":white_check_mark:",
    ]


async def test_deactivated_requester_and_approver_are_a_logged_rejection_not_a_retry_loop(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    """Slack answers `user_disabled` for a deactivated account's DM: logged once per
    person with what it means, the event acked, the others still told."""
    alice = f.ALICE.model_copy(update={"slack_user_id": "U0ALICE"})  # known to intake
    asking = f.approval_requested().model_copy(update={"approvers": [alice, f.BOB]})
    ws = workspace()
    for user_id in (DAVE_ID, "U0ALICE"):
        ws.users[user_id].deleted = True
    with structlog.testing.capture_logs() as logs:
        async with (
            SlackEmulator(workspace=ws, bot_token=BOT_TOKEN) as emu,
            running(nats_server, write_profiles(tmp_path), emu),
        ):
            outbox = Outbox(admin_js)
            await outbox.publish(f.submitted())
            await outbox.publish(asking)
            await _assert_all_acked(admin_js)

    opened = [(c.params.get("users"), c.error) for c in emu.calls("conversations.open")]
    assert opened.count((DAVE_ID, "user_disabled")) == 1, opened
    assert opened.count(("U0ALICE", "user_disabled")) == 1, opened
    assert emu.dms(DAVE_ID) == []
    assert emu.dms("U0ALICE") == []
    assert len(emu.dms("U0BOB")) == 1, "the active approver was still asked"
    assert len(emu.messages(f.AUDIT_CHANNEL)) >= 1
    refused = [e for e in logs if e.get("error") == "user_disabled"]
    assert {e["event"] for e in refused} == {"slack.unreachable"}
    assert all(e["log_level"] == "warning" for e in refused)
    assert all("deactivated" in e["meaning"] for e in refused)
    assert sorted(e["person"] for e in refused) == ["alice@example.com", "dave@example.com"]
    assert not [e for e in logs if e["log_level"] in ("error", "exception", "critical")]
