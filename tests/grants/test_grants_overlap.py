"""Two grants of one attribute on one device: the attribute lasts until the last one ends.

The four orders of issue 11 against real NATS, the Tailscale emulator (whose own
expiry lags, so only grants' writes and deletes count) and the grants service.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.tailscale import TailscaleEmulator
from services.grants.adapters.store import holders_store
from services.grants.domain.holders import MAX_HOLDERS, AttributeHolders, Holder
from shared.contracts.events import (
    GrantApplied,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
    Message,
    RequestApproved,
)
from shared.contracts.subjects import Subject
from shared.ids import new_id
from shared.publishing import EventPublisher
from tests.grants.support import (
    ATTRIBUTE,
    ATTRIBUTE_PATH,
    CAROL,
    EventTap,
    approval,
    grants_settings,
    owned_device,
    running,
)
from tests.grants.test_grants_lifecycle import extension, revoke


def _expiry(emulator: TailscaleEmulator, node: str) -> datetime | None:
    found = emulator.attributes(node).get(ATTRIBUTE)
    return None if found is None else found["expiry"]


async def _applied(tap: EventTap, event: RequestApproved) -> GrantApplied:
    [envelope] = await tap.wait_for(Subject.GRANT_APPLIED, event.request_id)
    assert isinstance(envelope.event, GrantApplied)
    return envelope.event


async def _ended(tap: EventTap, subject: Subject, request_id: str, timeout: float = 10) -> Message:
    [envelope] = await tap.wait_for(subject, request_id, timeout=timeout)
    return envelope.event


async def test_b_approved_while_a_is_active_keeps_a_until_its_own_end(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    publisher = EventPublisher(admin_js, source="test/approvals")
    a, b = approval(device, duration=7), approval(device, duration=2)
    async with running(grants_settings(nats_server, emulator)):
        await publisher.publish(a)
        a_applied = await _applied(tap, a)
        await publisher.publish(b)
        b_applied = await _applied(tap, b)
        assert b_applied.expires_at < a_applied.expires_at
        assert _expiry(emulator, node) == a_applied.expires_at, "B's POST kept A's later end"

        b_ended = await _ended(tap, Subject.GRANT_EXPIRED, b.request_id)
        assert isinstance(b_ended, GrantExpired)
        assert b_ended.continues_under == a.request_id
        assert b_ended.continues_until == a_applied.expires_at
        assert _expiry(emulator, node) == a_applied.expires_at, "A keeps its access"
        assert emulator.calls_to("DELETE", ATTRIBUTE_PATH) == []

        a_ended = await _ended(tap, Subject.GRANT_EXPIRED, a.request_id)
    assert isinstance(a_ended, GrantExpired)
    assert a_ended.continues_under is None
    assert ATTRIBUTE not in emulator.attributes(node)
    assert len(emulator.calls_to("DELETE", ATTRIBUTE_PATH)) == 1


async def test_a_revoked_while_b_is_active_leaves_b_its_access(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    publisher = EventPublisher(admin_js, source="test/approvals")
    a, b = approval(device, duration=180), approval(device, duration=60)
    async with running(grants_settings(nats_server, emulator)):
        await publisher.publish(a)
        await _applied(tap, a)
        await publisher.publish(b)
        b_applied = await _applied(tap, b)
        await publisher.publish(revoke(a.request_id, CAROL, "done early"))
        a_ended = await _ended(tap, Subject.GRANT_REVOKED, a.request_id)
        assert isinstance(a_ended, GrantRevoked)
        assert a_ended.continues_under == b.request_id
        assert a_ended.continues_until == b_applied.expires_at
        assert _expiry(emulator, node) == b_applied.expires_at, "B keeps its access, to its end"
        assert emulator.calls_to("DELETE", ATTRIBUTE_PATH) == []

        await publisher.publish(revoke(b.request_id, CAROL))
        b_ended = await _ended(tap, Subject.GRANT_REVOKED, b.request_id)
    assert isinstance(b_ended, GrantRevoked)
    assert b_ended.continues_under is None
    assert ATTRIBUTE not in emulator.attributes(node)


async def test_b_first_then_a_ends_b_early_and_keeps_a(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    publisher = EventPublisher(admin_js, source="test/approvals")
    b, a = approval(device, duration=2), approval(device, duration=180)
    async with running(grants_settings(nats_server, emulator)):
        await publisher.publish(b)
        await _applied(tap, b)
        await publisher.publish(a)
        a_applied = await _applied(tap, a)
        assert _expiry(emulator, node) == a_applied.expires_at
        b_ended = await _ended(tap, Subject.GRANT_EXPIRED, b.request_id)
        assert isinstance(b_ended, GrantExpired)
        assert b_ended.continues_under == a.request_id
        assert _expiry(emulator, node) == a_applied.expires_at
    assert emulator.calls_to("DELETE", ATTRIBUTE_PATH) == []


async def test_revoking_a_after_b_ended_removes_the_attribute(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    publisher = EventPublisher(admin_js, source="test/approvals")
    a, b = approval(device, duration=180), approval(device, duration=2)
    async with running(grants_settings(nats_server, emulator)):
        await publisher.publish(a)
        a_applied = await _applied(tap, a)
        await publisher.publish(b)
        await _applied(tap, b)
        b_ended = await _ended(tap, Subject.GRANT_EXPIRED, b.request_id)
        assert isinstance(b_ended, GrantExpired)
        assert b_ended.continues_under == a.request_id
        assert _expiry(emulator, node) == a_applied.expires_at
        await publisher.publish(revoke(a.request_id, CAROL))
        a_ended = await _ended(tap, Subject.GRANT_REVOKED, a.request_id)
    assert isinstance(a_ended, GrantRevoked)
    assert a_ended.continues_under is None
    assert ATTRIBUTE not in emulator.attributes(node)
    assert len(emulator.calls_to("DELETE", ATTRIBUTE_PATH)) == 1


async def test_an_extension_moves_the_attribute_only_past_the_other_grants_end(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    publisher = EventPublisher(admin_js, source="test/approvals")
    a, b = approval(device, duration=60), approval(device, duration=180)
    async with running(grants_settings(nats_server, emulator)):
        await publisher.publish(a)
        await _applied(tap, a)
        await publisher.publish(b)
        b_applied = await _applied(tap, b)
        await publisher.publish(extension(a.request_id, 60))
        [first] = await tap.wait_for(Subject.GRANT_EXTENDED, a.request_id)
        assert isinstance(first.event, GrantExtended)
        assert first.event.expires_at < b_applied.expires_at
        assert _expiry(emulator, node) == b_applied.expires_at, "B's later end still counts"
        await publisher.publish(extension(a.request_id, 300))
        await tap.wait_for(Subject.GRANT_EXTENDED, a.request_id, count=2)
        [_, second] = tap.of(Subject.GRANT_EXTENDED, a.request_id)
        assert isinstance(second.event, GrantExtended)
        assert _expiry(emulator, node) == second.event.expires_at, "now A ends last"


async def test_a_grant_past_the_holders_bound_fails_without_touching_tailscale(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    until = datetime.now(UTC) + timedelta(hours=1)
    full = AttributeHolders.empty(node, ATTRIBUTE)
    for _ in range(MAX_HOLDERS):
        full = full.with_holder(
            Holder(request_id=new_id(), value=True, expires_at=until, comment="c")
        )
    await holders_store(await admin_js.key_value("grants")).put(full, 0)
    event = approval(device)
    async with running(grants_settings(nats_server, emulator)):
        await EventPublisher(admin_js, source="test/approvals").publish(event)
        [failed] = await tap.wait_for(Subject.GRANT_FAILED, event.request_id)

    assert isinstance(failed.event, GrantFailed)
    assert failed.event.error_code == "too_many_overlapping_grants"
    assert emulator.calls_to("POST", ATTRIBUTE_PATH) == []


async def test_ending_a_shared_grant_on_a_device_that_is_gone_still_ends_it(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    publisher = EventPublisher(admin_js, source="test/approvals")
    a, b = approval(device, duration=180), approval(device, duration=60)
    async with running(grants_settings(nats_server, emulator)):
        await publisher.publish(a)
        await _applied(tap, a)
        await publisher.publish(b)
        await _applied(tap, b)
        emulator.remove_device(device["nodeId"])
        await publisher.publish(revoke(a.request_id, CAROL))
        ended = await _ended(tap, Subject.GRANT_REVOKED, a.request_id)
    assert isinstance(ended, GrantRevoked)
    assert tap.of(Subject.GRANT_FAILED) == []
