"""A delivery made again publishes nothing twice: the person's own second try after Slack
showed an error (Slack never re-sends an interaction), or a repeated HTTP request."""

from __future__ import annotations

from typing import Any

import aiohttp
import pytest

from emulators.slack import DeliveryError, SlackEmulator
from shared.contracts.subjects import Subject
from shared.ids import new_id
from shared.slack_ids import ActionId, ButtonValue
from tests.intake.conftest import (
    APPROVALS,
    BOB,
    ERIN,
    Intake,
    form_body,
    published,
    signed_post_headers,
    wait_published,
)


@pytest.mark.parametrize("mode", ["socket"])
async def test_a_lost_ack_is_an_error_the_person_sees_and_trying_again_publishes_once(
    intake: Intake,
) -> None:
    """Slack does not re-send an interaction whose ack it missed (a reconnect gap): the
    person sees an error and tries again; that second try is the only repeat there is."""
    emu, driver = intake.emu, intake.emu.driver
    await intake.open_request_form(ERIN, "prod")
    await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "")
    form = {
        ActionId.DEVICE_SELECT.value: "nErinLaptopCNTRL",
        ActionId.DURATION_SELECT.value: "3600",
        ActionId.REASON_INPUT.value: "INC-1",
    }
    emu.drop_next_socket_ack()
    with pytest.raises(DeliveryError):
        await driver.submit_view(ERIN.id, values=form)
    await wait_published(intake.js, Subject.REQUEST_SUBMITTED.value)
    assert driver.current_view(ERIN.id) is not None, "the form stays open with Slack's error"
    assert await driver.submit_view(ERIN.id, values=form) is None  # closes this time
    assert driver.current_view(ERIN.id) is None

    ts = await intake.post_buttons(new_id())
    emu.drop_next_socket_ack()
    with pytest.raises(DeliveryError):
        await driver.press_button(BOB.id, APPROVALS.id, ts, ActionId.APPROVE.value)
    await wait_published(intake.js, Subject.DECISION_SUBMITTED.value)

    assert [(e.user_id, e.payload_type) for e in emu.user_errors] == [
        (ERIN.id, "view_submission"),
        (BOB.id, "block_actions"),
    ]
    assert [a.acked for a in emu.acks if a.payload_type != "block_suggestion"] == [
        True,  # the shortcut
        True,  # choosing the profile
        False,
        True,
        False,
    ]
    subjects = [e.meta.type for e in await published(intake.js)]
    assert subjects == [
        "io.accessbot.access.request.submitted",
        "io.accessbot.access.decision.submitted",
    ]


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
