"""A dead letter is told once to the audit channels of the request's profile."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import structlog
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.slack import SlackEmulator
from services.notifier.adapters.slack_gateway import SlackGateway
from services.notifier.adapters.store import RecordStore
from services.notifier.bootstrap import slack_client
from services.notifier.domain.deadletter_notice import deadletter_message
from services.notifier.handlers import DeadLetterNotices
from shared.consumers import MAX_DELIVER, consumers_of
from shared.contracts.cloudevents import CloudEventMeta, Envelope, ce_type
from shared.contracts.events import DeliveryDeadLettered
from shared.contracts.subjects import ACCESS_STREAM
from shared.ids import new_id
from shared.profiles import load_profiles
from shared.publishing import EventPublisher
from shared.subscribing import consumer_config
from tests.notifier import notifier_factories as f
from tests.notifier.notifier_harness import (
    BOT_TOKEN,
    Outbox,
    notifier_settings,
    running,
    wait_idle,
    workspace,
    write_profiles,
)

SECTION_MAX = 3000


def _deadlettered(
    *, profile_id: str | None = f.PROFILE, error: str = "boom"
) -> DeliveryDeadLettered:
    return DeliveryDeadLettered(
        request_id=f.REQUEST_ID,
        service="grants",
        consumer="grants_approved",
        subject="access.request.approved",
        event_id="01JDQ3F9A1B2C3D4E5F6G7H8J9",
        stream="ACCESS",
        stream_sequence=42,
        deliveries=20,
        last_error=error,
        profile_id=profile_id,
    )


def test_deadletter_notice_golden_and_within_slack_limits() -> None:
    typical = _deadlettered(error="SlackObjectFormationError: text must be at most 3000 characters")
    worst = _deadlettered(error="&<>" * 666)
    timer = typical.model_copy(update={"event_id": None, "subject": "timers.due.grant.x"})
    rendered = {
        name: deadletter_message(event).as_json()
        for name, event in (("typical", typical), ("worst_error", worst), ("timer", timer))
    }
    for message in rendered.values():
        for block in message["blocks"]:
            if block["type"] == "section":
                assert len(block["text"]["text"]) <= SECTION_MAX
    assert "accessbot deadletter replay grants_approved:42" in str(rendered["timer"])
    f.assert_golden("deadletter_notice", rendered)


async def test_the_notifier_posts_a_dead_letter_once_to_the_profiles_audit_channel(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    async with (
        SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu,
        running(nats_server, write_profiles(tmp_path), emu),
    ):
        await Outbox(admin_js).publish(f.submitted())  # the notifier learns the profile
        before = len(emu.messages(f.AUDIT_CHANNEL))
        # A command names no profile: the notifier's record of the request does.
        publisher = EventPublisher(admin_js, source="accessbot/grants")
        await publisher.publish(_deadlettered(profile_id=None))
        await wait_idle(admin_js)
    posted = emu.messages(f.AUDIT_CHANNEL)[before:]
    assert len(posted) == 1
    assert "*grants* gave up on `access.request.approved` after 20 deliveries" in posted[0].text


async def test_a_redelivered_announcement_posts_nothing_twice(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    profiles_path = write_profiles(tmp_path)
    async with SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu:
        settings = notifier_settings(nats_server, profiles_path, emu)
        store = await RecordStore.open(admin_js)
        notices = DeadLetterNotices(
            store=store,
            slack=SlackGateway(slack_client(settings)),
            profiles=load_profiles(profiles_path),
        )
        event = _deadlettered()
        meta = CloudEventMeta(
            id=new_id(),
            source="accessbot/grants",
            type=ce_type(event.SUBJECT),
            time=datetime.now(UTC),
            subject=event.request_id,
        )
        await notices.handle(Envelope(meta=meta, event=event))
        await notices.handle(Envelope(meta=meta, event=event))  # redelivered
        assert len(emu.messages(f.AUDIT_CHANNEL)) == 1


async def test_starting_over_an_older_deployment_bounds_its_consumers(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    """Consumers made before `max_deliver` existed retried a poison event for ever."""
    legacy = [consumer_config(spec) for spec in consumers_of("notifier")]
    for config in legacy:
        config.max_deliver = None
        await admin_js.add_consumer(ACCESS_STREAM, config)
    with structlog.testing.capture_logs() as logs:
        async with (
            SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu,
            running(nats_server, write_profiles(tmp_path), emu),
        ):
            pass
    for spec in consumers_of("notifier"):
        info = await admin_js.consumer_info(ACCESS_STREAM, spec.durable)
        assert info.config.max_deliver == MAX_DELIVER
    updated = [e for e in logs if e["event"] == "provision.consumer_updated"]
    assert len(updated) == len(legacy)
