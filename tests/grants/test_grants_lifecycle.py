"""Revoke, extend and expire an applied grant (real NATS, the emulator, timers in TIMERS)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.tailscale import TailscaleEmulator
from services.grants.domain.records import GrantStatus
from shared.contracts.events import (
    ExtensionApproved,
    GrantApplied,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
    Person,
    RefusalReason,
    RevokeGrant,
    RevokeRefused,
)
from shared.contracts.subjects import Subject
from shared.ids import new_id
from shared.publishing import EventPublisher
from shared.timers import TimerFired
from tests.grants.support import (
    ALICE,
    ATTRIBUTE,
    ATTRIBUTE_PATH,
    CAROL,
    EventTap,
    approval,
    grant_record,
    grants_settings,
    owned_device,
    running,
    wait_until,
)

MALLORY = Person(email="mallory@example.com")
SECOPS = Person(email="secops@example.com")  # an admin in profiles.yaml


def revoke(request_id: str, actor: Person, reason: str | None = None) -> RevokeGrant:
    return RevokeGrant(request_id=request_id, actor=actor, reason=reason)


def extension(request_id: str, seconds: int, extension_id: str | None = None) -> ExtensionApproved:
    return ExtensionApproved(
        request_id=request_id,
        requester=CAROL,
        profile_id="prod",
        extension_id=extension_id or new_id(),
        additional_seconds=seconds,
        approvers=[ALICE],
    )


async def test_revoke_by_allowed_people_and_refusal_of_others(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    publisher = EventPublisher(admin_js, source="test/intake")
    grant = approval(device)
    other = approval(device, attribute="custom:other")
    async with running(grants_settings(nats_server, emulator)):
        await publisher.publish(grant)
        await publisher.publish(other)
        await tap.wait_for(Subject.GRANT_APPLIED, grant.request_id)
        await tap.wait_for(Subject.GRANT_APPLIED, other.request_id)

        await publisher.publish(revoke(grant.request_id, MALLORY))
        [refused] = await tap.wait_for(Subject.REVOKE_REFUSED, grant.request_id)
        assert ATTRIBUTE in emulator.attributes(node)

        await publisher.publish(revoke(grant.request_id, ALICE, reason="incident closed"))
        [revoked] = await tap.wait_for(Subject.GRANT_REVOKED, grant.request_id)

        await publisher.publish(revoke(grant.request_id, CAROL))
        await tap.wait_for(Subject.REVOKE_REFUSED, grant.request_id, count=2)

        await publisher.publish(revoke(other.request_id, SECOPS))
        await tap.wait_for(Subject.GRANT_REVOKED, other.request_id)

        unknown = new_id()
        await publisher.publish(revoke(unknown, SECOPS))
        [nothing] = await tap.wait_for(Subject.REVOKE_REFUSED, unknown)

    assert isinstance(refused.event, RevokeRefused)
    assert (refused.event.actor, refused.event.code) == (MALLORY, RefusalReason.NOT_ELIGIBLE)
    assert "Production" in refused.event.message
    assert isinstance(revoked.event, GrantRevoked)
    assert (revoked.event.revoked_by, revoked.event.reason) == (ALICE, "incident closed")
    assert emulator.attributes(node) == {}
    assert len(emulator.calls_to("DELETE", ATTRIBUTE_PATH)) == 1
    again = tap.of(Subject.REVOKE_REFUSED, grant.request_id)[1].event
    assert isinstance(again, RevokeRefused)
    assert again.code is RefusalReason.NOT_ACTIVE
    assert isinstance(nothing.event, RevokeRefused)
    assert nothing.event.code is RefusalReason.NOT_ACTIVE
    assert (await grant_record(admin_js, grant.request_id)).status is GrantStatus.REVOKED


async def test_extension_moves_the_expiry_on_tailscale_and_the_timer(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    publisher = EventPublisher(admin_js, source="test/approvals")
    grant = approval(device, duration=2)
    async with running(grants_settings(nats_server, emulator)):
        await publisher.publish(grant)
        [applied] = await tap.wait_for(Subject.GRANT_APPLIED, grant.request_id)
        assert isinstance(applied.event, GrantApplied)
        first_expiry = applied.event.expires_at

        more = extension(grant.request_id, 3)
        await publisher.publish(more)
        await publisher.publish(more)  # a redelivery of the same extension changes nothing
        [extended] = await tap.wait_for(Subject.GRANT_EXTENDED, grant.request_id)
        assert isinstance(extended.event, GrantExtended)
        new_expiry = extended.event.expires_at
        assert emulator.attributes(node)[ATTRIBUTE]["expiry"] == new_expiry
        timer = await admin_js.get_last_msg("TIMERS", f"timers.schedule.grant.{grant.request_id}")
        fired = TimerFired.model_validate_json(timer.data or b"")
        assert (fired.due_at, fired.generation) == (new_expiry, 1)

        # The first expiry passes: its timer is stale, the attribute stays.
        await wait_until(lambda: datetime.now(UTC) > first_expiry + timedelta(seconds=1), timeout=5)
        assert ATTRIBUTE in emulator.attributes(node)
        assert tap.of(Subject.GRANT_EXPIRED, grant.request_id) == []

        [expired] = await tap.wait_for(Subject.GRANT_EXPIRED, grant.request_id, timeout=8)
        assert emulator.attributes(node) == {}

        late = extension(grant.request_id, 60)
        await publisher.publish(late)
        [refused] = await tap.wait_for(Subject.GRANT_FAILED, grant.request_id)

    assert extended.event.previous_expires_at == first_expiry
    assert new_expiry == first_expiry + timedelta(seconds=3)
    assert extended.event.extension_id == more.extension_id
    assert len(tap.of(Subject.GRANT_EXTENDED, grant.request_id)) == 1
    assert len(emulator.calls_to("POST", ATTRIBUTE_PATH)) == 2  # the grant, the extension
    assert isinstance(expired.event, GrantExpired)
    assert expired.event.expired_at >= new_expiry
    assert isinstance(refused.event, GrantFailed)
    assert refused.event.extension_id == late.extension_id
    assert refused.event.error_code == "not_active"
    assert "expired" in refused.event.message


async def test_extension_of_an_unknown_grant_fails_with_its_extension_id(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    unknown = extension(new_id(), 60)
    async with running(grants_settings(nats_server, emulator)):
        await EventPublisher(admin_js, source="test/approvals").publish(unknown)
        [failed] = await tap.wait_for(Subject.GRANT_FAILED, unknown.request_id)
    assert isinstance(failed.event, GrantFailed)
    assert failed.event.extension_id == unknown.extension_id
    assert failed.event.error_code == "unknown_grant"
    assert emulator.calls_to("POST", ATTRIBUTE_PATH) == []


async def test_expiry_leaves_an_attribute_a_newer_grant_has_set(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    node = device["nodeId"]
    publisher = EventPublisher(admin_js, source="test/approvals")
    short = approval(device, duration=2)
    longer = approval(device, duration=600)
    async with running(grants_settings(nats_server, emulator)):
        await publisher.publish(short)
        await tap.wait_for(Subject.GRANT_APPLIED, short.request_id)
        await publisher.publish(longer)
        [applied] = await tap.wait_for(Subject.GRANT_APPLIED, longer.request_id)
        await tap.wait_for(Subject.GRANT_EXPIRED, short.request_id, timeout=8)

    assert isinstance(applied.event, GrantApplied)
    assert emulator.attributes(node)[ATTRIBUTE]["expiry"] == applied.event.expires_at
    assert emulator.calls_to("DELETE", ATTRIBUTE_PATH) == []
