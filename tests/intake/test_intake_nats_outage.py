"""A submission that cannot be recorded is refused on the form, never closed silently."""

from __future__ import annotations

import time

from nats.aio.client import Client

from accessbot.natsserver import EmbeddedNats
from services.intake.domain.approvers import approver_value
from services.intake.handlers.request_flow import NOT_SUBMITTED
from shared.slack_ids import ActionId, BlockId
from tests.intake.conftest import ERIN, Intake, eventually


async def test_nats_down_at_submit_tells_the_requester_inside_slacks_window(
    intake: Intake, nats_server: EmbeddedNats, admin_nc: Client
) -> None:
    driver = intake.emu.driver
    await intake.open_request_form(ERIN, "prod")
    await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "laptop")
    nats_server.stop()  # JetStream cannot store the request now
    try:
        started = time.monotonic()
        ack = await driver.submit_view(
            ERIN.id,
            values={
                ActionId.DEVICE_SELECT.value: "nErinLaptopCNTRL",
                ActionId.DURATION_SELECT.value: "3600",
                ActionId.APPROVER_RADIO.value: approver_value("bob@example.com"),
                ActionId.REASON_INPUT.value: "Investigating INC-4211",
            },
        )
        answered_in = time.monotonic() - started
    finally:
        nats_server.start()  # same port and store: both clients reconnect for teardown
        clients = (admin_nc, intake.service.broker.connection)

        async def reconnected() -> bool:
            return all(c.is_connected for c in clients)

        await eventually(reconnected, timeout=15)
    assert ack == {"response_action": "errors", "errors": {BlockId.PROFILE.value: NOT_SUBMITTED}}
    assert answered_in < 3.0
    assert driver.current_view(ERIN.id) is not None  # the form stays open to retry
