"""A pending request's expiry is not held up by a timer lost with a dying process.

A due timer delivered to a process that died comes back only after the consumer's
ack wait (30 s); approvals re-checks its records for due expiries at start and
whenever NATS is back (services/approvals/entrypoints/expiry_sweep.py).
"""

from __future__ import annotations

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from services.approvals.bootstrap import build
from shared.connection import connect
from shared.consumers import consumer
from shared.contracts.events import RequestExpired
from shared.contracts.subjects import Bucket, Subject
from shared.publishing import EventPublisher
from tests.approvals.factories import OWN_DEVICE_ID, approvals_settings, device, submitted
from tests.approvals.test_approvals_service import Outbox
from tests.conftest import settings_for

TIMER = consumer("approvals", "approvals_timer_request")
PROMPT_SECONDS = 5.0


async def test_a_due_timer_held_by_a_dead_process_does_not_delay_the_expiry(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    devices = await admin_js.key_value(Bucket.DEVICES.value)
    await devices.put(OWN_DEVICE_ID, device().model_dump_json().encode())
    intake = await connect(settings_for(nats_server, "intake"), name="test-intake")
    request = submitted(profile_id="quick", duration_seconds=600)  # pending for 2 s
    service = build(approvals_settings(nats_server))
    await service.start()
    try:
        await EventPublisher(intake.jetstream(), source="accessbot/intake").publish(request)
        await Outbox(admin_js).events(Subject.APPROVAL_REQUESTED, count=1)
    finally:
        await service.stop()
        await intake.close()
    # The timer fires with nobody to take it but a pull that is never answered
    # (as a process killed right after receiving it).
    taken = await admin_js.pull_subscribe_bind(TIMER.durable, stream=TIMER.stream)
    [held] = await taken.fetch(1, timeout=10)
    assert held.subject == f"timers.due.request.{request.request_id}"

    service = build(approvals_settings(nats_server))
    await service.start()
    try:
        found = await Outbox(admin_js).events(
            Subject.REQUEST_EXPIRED, count=1, timeout=PROMPT_SECONDS
        )
    finally:
        await service.stop()
    assert [e.request_id for e in found if isinstance(e, RequestExpired)] == [request.request_id]
