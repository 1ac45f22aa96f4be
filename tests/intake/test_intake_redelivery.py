"""A delivery Slack makes again (a retry, a re-sent envelope) publishes nothing twice."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.slack import SlackEmulator
from shared.ids import new_id
from shared.slack_ids import ActionId, ButtonValue
from shared.subjects import Subject
from tests.intake.conftest import (
    APP_TOKEN,
    APPROVALS,
    BOB,
    BOT_TOKEN,
    DEVICES,
    ERIN,
    SIGNING_SECRET,
    Intake,
    form_body,
    published,
    put_devices,
    signed_post_headers,
    start_intake,
    wait_published,
    workspace,
)


@pytest.fixture
async def impatient_slack() -> AsyncIterator[SlackEmulator]:
    """A Slack that never waits for an ack before re-sending: every interaction arrives
    twice, the second while the first is still being handled (then it waits 0.3 s)."""
    emu = SlackEmulator(
        workspace=workspace(),
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        signing_secret=SIGNING_SECRET,
        ack_timeout=0.0,
        retry_delays=(0.0, 0.3),
    )
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


async def test_resent_socket_envelopes_publish_once(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, impatient_slack: SlackEmulator
) -> None:
    emu = impatient_slack
    await put_devices(admin_js, DEVICES)
    intake = await start_intake(nats_server, emu, admin_js, "socket")
    try:
        driver = emu.driver
        await intake.open_request_form(ERIN, "prod")
        await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "")
        await driver.submit_view(
            ERIN.id,
            values={
                ActionId.DEVICE_SELECT.value: "nErinLaptopCNTRL",
                ActionId.DURATION_SELECT.value: "3600",
                ActionId.REASON_INPUT.value: "INC-1",
            },
        )
        request_id = new_id()
        ts = await intake.post_buttons(request_id)
        await driver.press_button(BOB.id, APPROVALS.id, ts, ActionId.APPROVE.value)
        await wait_published(admin_js, Subject.DECISION_SUBMITTED.value)
    finally:
        await intake.service.stop()
    assert all(a.attempts == 2 for a in emu.acks), "each interaction should arrive twice"
    subjects = [e.meta.type for e in await published(admin_js)]
    assert subjects == [
        "io.accessbot.access.request.submitted",
        "io.accessbot.access.decision.submitted",
    ]
    # The repeated shortcut did not open a second modal with a spent trigger.
    assert len(emu.calls("views.open")) == 1
    assert all(c.ok for c in emu.api_calls)


async def post(url: str, emu: SlackEmulator, payload: dict[str, Any], retry: int | None) -> Any:
    body = form_body(payload)
    async with (
        aiohttp.ClientSession() as session,
        session.post(url, data=body, headers=signed_post_headers(emu, body, retry)) as response,
    ):
        assert response.status == 200
        text = await response.text()
        return await response.json() if text else None


@pytest.mark.parametrize("mode", ["http"])
async def test_http_retries_publish_once(intake: Intake) -> None:
    assert intake.http_url is not None
    view = await intake.open_request_form(ERIN, "prod")
    submission = {
        "type": "view_submission",
        "user": {"id": ERIN.id, "name": ERIN.name},
        "trigger_id": "1.2.first",
        "view": {
            **view,
            "state": {
                "values": {
                    "profile": {"profile_select": {"selected_option": {"value": "prod"}}},
                    "device": {"device_select": {"selected_option": {"value": "nErinLaptopCNTRL"}}},
                    "duration": {"duration_select": {"selected_option": {"value": "1800"}}},
                    "reason": {"reason_input": {"value": "INC-2"}},
                }
            },
        },
    }
    first = await post(intake.http_url, intake.emu, submission, None)
    again = await post(intake.http_url, intake.emu, submission, 1)
    assert first is None
    assert again is None
    button = {
        "type": "block_actions",
        "user": {"id": BOB.id},
        "trigger_id": "1.2.button",
        "container": {"type": "message", "channel_id": APPROVALS.id, "message_ts": "1.1"},
        "actions": [
            {
                "action_id": ActionId.APPROVE.value,
                "value": ButtonValue(new_id()).encode(),
                "action_ts": "1764493200.000100",
            }
        ],
    }
    for retry in (None, 1, 2):
        assert await post(intake.http_url, intake.emu, button, retry) is None
    await wait_published(intake.js, Subject.DECISION_SUBMITTED.value)

    # Another replica that never saw these deliveries: JetStream's duplicate window
    # drops what it publishes, because the event ids derive from the interactions.
    other = await start_intake_replica(intake)
    try:
        assert await post(str(other.http_url), intake.emu, submission, 3) is None
        assert await post(str(other.http_url), intake.emu, button, 3) is None
    finally:
        await other.service.stop()
    events = await published(intake.js)
    assert [e.meta.type.rsplit(".", 2)[-2] for e in events] == ["request", "decision"]


async def start_intake_replica(intake: Intake) -> Intake:
    from accessbot.natsserver import free_port

    settings = intake.settings.model_copy(update={"slack_http_port": free_port()})
    replica = Intake(settings=settings, emu=intake.emu, js=intake.js, mode="http")
    await replica.start()
    intake.emu.set_http_app_url(intake.http_url)  # Slack keeps delivering to the first one
    return replica
