"""`app_home_opened` (Socket Mode and signed HTTP): acked at once, and for the Home tab
the notifier is asked to publish it (`access.home.requested`, the opener's identity); the
Home's buttons (block_actions from a view: no message, no channel) work as the DMs' do."""

from __future__ import annotations

import asyncio

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from services.intake.handlers.button_flow import NO_EMAIL_CLICK
from shared.contracts.events import CancelRequest, DecideRequest, Decision, Person, PublishHome
from shared.contracts.subjects import Subject
from shared.ids import is_valid_id, new_id
from shared.slack_ids import ActionId, AgainValue, ButtonValue, CallbackId
from tests.intake.conftest import (
    BOB,
    BOT_TOKEN,
    ERIN,
    Intake,
    metadata,
    published,
    wait_published,
)

ERIN_PERSON = Person(email="erin@example.com", slack_user_id=ERIN.id, name="Erin Requester")
BOB_PERSON = Person(email="bob@example.com", slack_user_id=BOB.id, name="Bob Builder")
GHOST = "U0GHOST"  # in the workspace without an email Slack shows


async def test_opening_the_home_tab_asks_for_it_to_be_published(intake: Intake) -> None:
    assert await intake.emu.driver.open_home(ERIN.id) is None  # acked, nothing in the ack
    [asked] = await wait_published(intake.js, Subject.HOME_REQUESTED.value)
    assert isinstance(asked.event, PublishHome)
    assert asked.event.person == ERIN_PERSON
    assert is_valid_id(asked.event.request_id)
    assert asked.meta.id == asked.event.request_id  # derived from Slack's event id
    assert asked.meta.source == "accessbot/intake"


async def test_the_messages_tab_asks_for_nothing(intake: Intake) -> None:
    assert await intake.emu.driver.open_home(ERIN.id, tab="messages") is None
    await asyncio.sleep(0.3)
    assert await published(intake.js, Subject.HOME_REQUESTED.value) == []


async def publish_home(intake: Intake, user_id: str, request_id: str) -> None:
    """A Home with the buttons the notifier publishes, each with its DM's value."""
    value = ButtonValue(request_id).encode()
    again = AgainValue(request_id, profile_id="prod", reason="Again").encode()
    buttons = [
        {
            "type": "button",
            "action_id": a.value,
            "text": {"type": "plain_text", "text": t},
            "value": v,
        }
        for a, t, v in (
            (ActionId.APPROVE, "Approve", value),
            (ActionId.DENY, "Deny", value),
            (ActionId.REVOKE, "Revoke", value),
            (ActionId.EXTEND, "Extend", ButtonValue(request_id, profile_id="prod").encode()),
            (ActionId.CANCEL, "Cancel", value),
            (ActionId.REQUEST_AGAIN, "Request again", again),
            (ActionId.HOME_REQUEST, "Request access", "home"),
        )
    ]
    client = AsyncWebClient(token=BOT_TOKEN, base_url=intake.emu.api_url)
    blocks = [{"type": "actions", "block_id": "home_items", "elements": buttons}]
    await client.views_publish(user_id=user_id, view={"type": "home", "blocks": blocks})


async def test_buttons_pressed_in_the_home_tab_work_as_in_a_dm(intake: Intake) -> None:
    request_id = new_id()
    await publish_home(intake, BOB.id, request_id)
    driver = intake.emu.driver
    assert await driver.press_home_button(BOB.id, ActionId.APPROVE.value) is None
    [approved] = await wait_published(intake.js, Subject.DECISION_SUBMITTED.value)
    assert approved.event == DecideRequest(
        request_id=request_id, decider=BOB_PERSON, decision=Decision.APPROVE
    )
    await driver.press_home_button(BOB.id, ActionId.CANCEL.value)
    [cancelled] = await wait_published(intake.js, Subject.CANCEL_REQUESTED.value)
    assert cancelled.event == CancelRequest(request_id=request_id, actor=BOB_PERSON)

    await driver.press_home_button(BOB.id, ActionId.DENY.value)
    deny = await driver.wait_for_view(BOB.id, callback_id=CallbackId.DENY_MODAL.value)
    assert metadata(deny).request_id == request_id
    await driver.close_view(BOB.id)
    await driver.press_home_button(BOB.id, ActionId.REVOKE.value)
    revoke = await driver.wait_for_view(BOB.id, callback_id=CallbackId.REVOKE_MODAL.value)
    assert metadata(revoke).request_id == request_id
    await driver.close_view(BOB.id)
    await driver.press_home_button(BOB.id, ActionId.EXTEND.value)
    extend = await driver.wait_for_view(BOB.id, callback_id=CallbackId.EXTEND_MODAL.value)
    assert (metadata(extend).request_id, metadata(extend).profile_id) == (request_id, "prod")


@pytest.mark.parametrize("action", [ActionId.HOME_REQUEST, ActionId.REQUEST_AGAIN])
async def test_request_access_and_request_again_open_the_form_from_the_home(
    intake: Intake, action: ActionId
) -> None:
    await publish_home(intake, ERIN.id, new_id())
    assert await intake.emu.driver.press_home_button(ERIN.id, action.value) is None
    form = await intake.emu.driver.wait_for_view(
        ERIN.id, callback_id=CallbackId.REQUEST_MODAL.value
    )
    assert is_valid_id(metadata(form).request_id)


async def test_a_click_in_the_home_that_cannot_count_is_answered_in_a_dm(intake: Intake) -> None:
    await publish_home(intake, GHOST, new_id())  # Slack shows no email for this person
    assert await intake.emu.driver.press_home_button(GHOST, ActionId.APPROVE.value) is None
    told = await intake.emu.wait_until(lambda: intake.emu.dms(GHOST), 5.0)
    assert told[-1].text == NO_EMAIL_CLICK
    assert await published(intake.js, Subject.DECISION_SUBMITTED.value) == []
