""" "Request again" over Socket Mode and HTTP: the button opens the form filled in, the
submission is validated like any other and publishes a new request."""

from __future__ import annotations

from typing import Any

from slack_sdk.web.async_client import AsyncWebClient

from shared.contracts.events import SubmitRequest
from shared.contracts.subjects import Subject
from shared.ids import is_valid_id, new_id
from shared.slack_ids import ActionId, AgainValue, BlockId
from tests.intake.conftest import (
    APPROVALS,
    BOT_TOKEN,
    ERIN,
    Intake,
    block,
    metadata,
    published,
    wait_published,
)


async def post_again(intake: Intake, value: str) -> str:
    """A message with the "Request again" button the notifier posts; its ts."""
    button = {
        "type": "button",
        "action_id": ActionId.REQUEST_AGAIN.value,
        "text": {"type": "plain_text", "text": "Request again"},
        "value": value,
    }
    client = AsyncWebClient(token=BOT_TOKEN, base_url=intake.emu.api_url)
    response = await client.chat_postMessage(
        channel=APPROVALS.id,
        text="Your access request: Denied",
        blocks=[{"type": "actions", "block_id": BlockId.ACTIONS.value, "elements": [button]}],
    )
    return str(response["ts"])


def notes(view: dict[str, Any]) -> list[str]:
    return [e["text"] for e in block(view, BlockId.AGAIN_NOTE)["elements"]]


async def test_request_again_opens_the_form_filled_in_and_submits_a_new_request(
    intake: Intake,
) -> None:
    ended = new_id()
    value = AgainValue(
        request_id=ended,
        profile_id="prod",
        device_id="nErinLaptopCNTRL",
        duration_seconds=3600,
        reason="Investigating INC-4211",
    )
    ts = await post_again(intake, value.encode())
    driver = intake.emu.driver
    await driver.press_button(ERIN.id, APPROVALS.id, ts, ActionId.REQUEST_AGAIN.value)
    view = await driver.wait_for_view(ERIN.id, callback_id="request_access_modal")
    fresh = metadata(view)
    assert is_valid_id(fresh.request_id)
    assert fresh.request_id != ended  # a new request, born with its form
    assert fresh.profile_id == "prod"
    assert notes(view) == [f"Filled in as request {ended} was; check it, then press Request."]
    assert block(view, BlockId.DEVICE)["element"]["initial_option"]["value"] == "nErinLaptopCNTRL"
    assert block(view, BlockId.DURATION)["element"]["initial_option"]["value"] == "3600"
    assert block(view, BlockId.REASON)["element"]["initial_value"] == "Investigating INC-4211"

    assert await driver.submit_view(ERIN.id) is None  # as filled in
    [envelope] = await wait_published(intake.js, Subject.REQUEST_SUBMITTED.value)
    event = envelope.event
    assert isinstance(event, SubmitRequest)
    assert event.request_id == fresh.request_id
    assert (event.profile_id, event.device_id, event.duration_seconds, event.reason) == (
        "prod",
        "nErinLaptopCNTRL",
        3600,
        "Investigating INC-4211",
    )


async def test_request_again_with_what_no_longer_holds_says_so_and_validates(
    intake: Intake,
) -> None:
    # Someone else's device and a day: prod allows neither any more (never did, here).
    value = AgainValue(
        request_id=new_id(), profile_id="prod", device_id="nBobPcCNTRL", duration_seconds=86400
    )
    ts = await post_again(intake, value.encode())
    driver = intake.emu.driver
    await driver.press_button(ERIN.id, APPROVALS.id, ts, ActionId.REQUEST_AGAIN.value)
    view = await driver.wait_for_view(ERIN.id, callback_id="request_access_modal")
    assert notes(view)[1:] == [
        "⚠ Production can only be granted on your own (untagged) devices.",
        "⚠ 1 day is longer than Production allows (8 hours). Choose a duration it allows.",
    ]
    assert "initial_option" not in block(view, BlockId.DEVICE)["element"]
    assert "initial_option" not in block(view, BlockId.DURATION)["element"]
    assert await published(intake.js) == []
    # The person fills in what was left empty; the submission is checked like any other.
    await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "laptop")
    ack = await driver.submit_view(
        ERIN.id,
        values={
            ActionId.DEVICE_SELECT.value: "nErinLaptopCNTRL",
            ActionId.DURATION_SELECT.value: str(8 * 3600),
            ActionId.REASON_INPUT.value: "   ",  # prod requires a reason
        },
    )
    assert ack == {
        "response_action": "errors",
        "errors": {"reason": "Say why you need Production."},
    }
    assert await driver.submit_view(ERIN.id, values={ActionId.REASON_INPUT.value: "again"}) is None
    [envelope] = await wait_published(intake.js, Subject.REQUEST_SUBMITTED.value)
    assert isinstance(envelope.event, SubmitRequest)
    assert envelope.event.duration_seconds == 8 * 3600


async def test_a_forged_request_again_value_opens_nothing(intake: Intake) -> None:
    ts = await post_again(intake, '{"r":"not-a-ulid","p":"prod"}')
    ack = await intake.emu.driver.press_button(
        ERIN.id, APPROVALS.id, ts, ActionId.REQUEST_AGAIN.value
    )
    assert ack is None
    assert intake.emu.driver.current_view(ERIN.id) is None
    assert await published(intake.js) == []
