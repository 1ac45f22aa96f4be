"""Applying an approved request: real NATS, the Tailscale emulator, the real httpx client."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.tailscale import Fault, TailscaleEmulator
from services.grants.domain import transitions
from services.grants.domain.records import GrantStatus
from shared.contracts.events import GrantApplied, GrantFailed
from shared.contracts.subjects import Subject
from shared.publishing import EventPublisher
from shared.timers import TimerFired
from tests.grants.support import (
    ATTRIBUTE,
    ATTRIBUTE_PATH,
    EventTap,
    approval,
    grant_record,
    grants_settings,
    owned_device,
    running,
)


async def test_approval_sets_the_attribute_with_expiry_and_comment_then_announces_it(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    event = approval(device, duration=3600)
    async with running(grants_settings(nats_server, emulator)):
        before = datetime.now(UTC)
        await EventPublisher(admin_js, source="test/approvals").publish(event)
        [envelope] = await tap.wait_for(Subject.GRANT_APPLIED, event.request_id)
        after = datetime.now(UTC)

    applied = envelope.event
    assert isinstance(applied, GrantApplied)
    assert envelope.meta.source == "accessbot/grants"
    attribute = emulator.attributes(device["nodeId"])[ATTRIBUTE]
    assert attribute["value"] is True
    assert attribute["expiry"] == applied.expires_at
    assert before + timedelta(seconds=3600) <= applied.expires_at
    assert applied.expires_at <= after + timedelta(seconds=3601)
    assert applied.expires_at.microsecond == 0
    comment = attribute["comment"]
    assert len(comment) <= 200
    for part in (event.request_id, "carol@example.com", "alice@example.com", "INC-4211"):
        assert part in comment
    record = await grant_record(admin_js, event.request_id)
    assert record.status is GrantStatus.ACTIVE
    assert record.outbox == []
    assert record.event_ids["applied"] == envelope.meta.id
    # The expiry timer is scheduled at the real expiry.
    timer = await admin_js.get_last_msg("TIMERS", f"timers.schedule.grant.{event.request_id}")
    fired = TimerFired.model_validate_json(timer.data or b"")
    assert fired.due_at == applied.expires_at
    assert fired.generation == 0


async def test_rate_limits_and_server_errors_are_retried_to_success(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    emulator.inject(Fault(kind="429", count=2, path=ATTRIBUTE_PATH, method="POST"))
    emulator.inject(Fault(kind="429", count=1, retry_after=1, path=ATTRIBUTE_PATH, method="POST"))
    emulator.inject(Fault(kind="500", count=2, path=ATTRIBUTE_PATH, method="POST"))
    event = approval(device)
    async with running(grants_settings(nats_server, emulator)):
        await EventPublisher(admin_js, source="test/approvals").publish(event)
        await tap.wait_for(Subject.GRANT_APPLIED, event.request_id, timeout=15)

    posts = emulator.calls_to("POST", ATTRIBUTE_PATH)
    assert [c.status for c in posts] == [429, 429, 429, 500, 500, 200]
    # Retry-After: 1 was honoured before the next attempt.
    assert posts[3].monotonic - posts[2].monotonic >= 1.0
    assert ATTRIBUTE in emulator.attributes(device["nodeId"])
    assert tap.of(Subject.GRANT_FAILED) == []


async def test_a_revoked_token_is_renewed(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    publisher = EventPublisher(admin_js, source="test/approvals")
    async with running(grants_settings(nats_server, emulator)):
        first = approval(device, attribute="custom:first")
        await publisher.publish(first)
        await tap.wait_for(Subject.GRANT_APPLIED, first.request_id)
        emulator.revoke_tokens()
        second = approval(device, attribute="custom:second")
        await publisher.publish(second)
        await tap.wait_for(Subject.GRANT_APPLIED, second.request_id)

    tokens = emulator.calls_to("POST", r"/oauth/token$")
    assert [c.status for c in tokens] == [200, 200]
    refused = [
        c for c in emulator.calls_to("POST", r"/attributes/custom:second$") if c.status == 401
    ]
    assert len(refused) == 1
    assert set(emulator.attributes(device["nodeId"])) == {"custom:first", "custom:second"}


async def test_a_permanent_rejection_is_announced_as_failed_with_the_reason(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    publisher = EventPublisher(admin_js, source="test/approvals")
    async with running(grants_settings(nats_server, emulator)):
        # The key already holds booleans in this tailnet: a string is a 400.
        await publisher.publish(approval(device, attribute="custom:typed", value=True))
        wrong_type = approval(device, attribute="custom:typed", value="yes")
        await publisher.publish(wrong_type)
        gone_device = approval({**device, "nodeId": "nGONE404CNTRL"})
        await publisher.publish(gone_device)
        [bad] = await tap.wait_for(Subject.GRANT_FAILED, wrong_type.request_id)
        [missing] = await tap.wait_for(Subject.GRANT_FAILED, gone_device.request_id)

    assert isinstance(bad.event, GrantFailed)
    assert (bad.event.error_code, bad.event.status_code) == ("tailscale_rejected", 400)
    assert "boolean" in bad.event.message
    assert bad.event.retryable is False, "asking again cannot fix a type clash"
    assert isinstance(missing.event, GrantFailed)
    assert (missing.event.error_code, missing.event.status_code) == ("tailscale_rejected", 404)
    assert "nGONE404CNTRL" in missing.event.message
    assert missing.event.retryable is False
    # A 4xx is not retried.
    assert len(emulator.calls_to("POST", r"/device/nGONE404CNTRL/")) == 1
    record = await grant_record(admin_js, wrong_type.request_id)
    assert record.status is GrantStatus.FAILED


async def test_retries_exhausted_is_announced_as_failed(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    emulator.inject(Fault(kind="504", count=None, path=ATTRIBUTE_PATH))
    event = approval(device)
    settings = grants_settings(nats_server, emulator, tailscale_retry_budget_seconds=1.0)
    async with running(settings):
        await EventPublisher(admin_js, source="test/approvals").publish(event)
        [failed] = await tap.wait_for(Subject.GRANT_FAILED, event.request_id)

    assert isinstance(failed.event, GrantFailed)
    assert failed.event.error_code == "retries_exhausted"
    assert failed.event.status_code == 504
    assert failed.event.retryable is True, "Tailscale may recover: asking again may work"
    assert "gateway timeout" in failed.event.message
    assert len(emulator.calls_to("POST", ATTRIBUTE_PATH)) >= 2
    assert tap.of(Subject.GRANT_APPLIED) == []


async def test_the_same_approval_three_times_posts_once_and_announces_once(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    event = approval(device)
    publisher = EventPublisher(admin_js, source="test/approvals")
    async with running(grants_settings(nats_server, emulator)):
        for _ in range(3):  # three deliveries, three different event ids
            await publisher.publish(event)
        await tap.wait_for(Subject.GRANT_APPLIED, event.request_id)
        await wait_for_consumer_idle(admin_js, "grants_approved")
        await asyncio.sleep(0.3)

    assert len(tap.of(Subject.REQUEST_APPROVED, event.request_id)) == 3
    assert len(tap.of(Subject.GRANT_APPLIED, event.request_id)) == 1
    assert len(emulator.calls_to("POST", ATTRIBUTE_PATH)) == 1


async def wait_for_consumer_idle(js: JetStreamContext, durable: str, timeout: float = 10.0) -> None:
    """Every message of the consumer delivered and acknowledged."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        info = await js.consumer_info("ACCESS", durable)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        assert asyncio.get_running_loop().time() < deadline, f"{durable} still busy: {info}"
        await asyncio.sleep(0.05)


async def test_an_apply_interrupted_before_its_post_is_finished_at_the_next_start(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    event = approval(device, duration=600)
    # A process claimed the grant a minute ago and died before calling Tailscale.
    long_ago = datetime.now(UTC) - timedelta(minutes=1)
    claimed = transitions.new_grant(event, comment="claimed", now=long_ago, lease_seconds=5)
    kv = await admin_js.key_value("grants")
    await kv.create(event.request_id, claimed.model_dump_json().encode())

    async with running(grants_settings(nats_server, emulator)):
        started = datetime.now(UTC)
        [envelope] = await tap.wait_for(Subject.GRANT_APPLIED, event.request_id)

    applied = envelope.event
    assert isinstance(applied, GrantApplied)
    # It looked first, found nothing, and counted the duration from when it really applied.
    assert emulator.calls_to("GET", r"/attributes$")
    assert len(emulator.calls_to("POST", ATTRIBUTE_PATH)) == 1
    assert applied.expires_at > claimed.expires_at
    assert applied.expires_at >= started + timedelta(seconds=599)
    assert emulator.attributes(device["nodeId"])[ATTRIBUTE]["expiry"] == applied.expires_at
