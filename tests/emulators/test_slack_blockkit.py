"""Block Kit limits the emulator enforces, through views.open / chat.postMessage and directly."""

from __future__ import annotations

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackEmulator, User, Workspace
from emulators.slack.blockkit import (
    validate_message_blocks,
    validate_options_response,
    validate_view,
)

BOT = "xoxb-test"


def text(value: str, kind: str = "plain_text") -> dict:
    return {"type": kind, "text": value}


def option(label: str, value: str) -> dict:
    return {"text": text(label), "value": value}


def modal(*blocks: dict, **fields) -> dict:
    view = {"type": "modal", "title": text("Request access"), "submit": text("Submit")}
    view["blocks"] = list(blocks) or [{"type": "section", "text": text("hi", "mrkdwn")}]
    view.update(fields)
    return view


def select_input(options: list[dict], kind: str = "static_select") -> dict:
    return {
        "type": "input",
        "block_id": "profile",
        "label": text("Profile"),
        "element": {"type": kind, "action_id": "profile", "options": options},
    }


@pytest.fixture
async def emu():
    ws = Workspace.seeded(seed=2, users=2)
    ws.add_user(User(id="U_ALICE", name="alice"))
    async with SlackEmulator(workspace=ws, bot_token=BOT) as emulator:
        yield emulator


async def open_error(emu, view: dict) -> list[str]:
    web = AsyncWebClient(token=BOT, base_url=emu.api_url)
    trigger = emu._state.triggers.issue("U_ALICE", "test")
    with pytest.raises(SlackApiError) as info:
        await web.views_open(trigger_id=trigger, view=view)
    assert info.value.response["error"] == "invalid_arguments"
    return info.value.response["response_metadata"]["messages"]


async def test_modal_with_101_blocks_is_rejected(emu):
    [message] = await open_error(emu, modal(*[{"type": "divider"}] * 101))
    assert message == "[ERROR] no more than 100 items allowed [json-pointer:/view/blocks]"


@pytest.mark.parametrize("field", ["title", "submit", "close"])
async def test_modal_texts_are_at_most_24_chars(emu, field):
    messages = await open_error(emu, modal(**{field: text("x" * 25)}))
    assert messages == [
        f"[ERROR] must be less than 25 characters [json-pointer:/view/{field}/text]"
    ]


async def test_static_select_with_101_options(emu):
    options = [option(f"Option {i}", str(i)) for i in range(101)]
    [message] = await open_error(emu, modal(select_input(options)))
    assert "no more than 100 items allowed" in message
    assert "/view/blocks/0/element/options" in message


async def test_option_text_longer_than_75(emu):
    [message] = await open_error(emu, modal(select_input([option("x" * 76, "a")])))
    assert "must be less than 76 characters" in message
    assert "/view/blocks/0/element/options/0/text/text" in message


async def test_option_value_longer_than_150(emu):
    [message] = await open_error(emu, modal(select_input([option("a", "v" * 151)])))
    assert "/element/options/0/value" in message


@pytest.mark.parametrize("kind", ["radio_buttons", "checkboxes"])
async def test_radio_and_checkboxes_have_at_most_10_options(emu, kind):
    options = [option(f"o{i}", str(i)) for i in range(11)]
    [message] = await open_error(emu, modal(select_input(options, kind)))
    assert "no more than 10 items allowed" in message


async def test_private_metadata_at_most_3000(emu):
    [message] = await open_error(emu, modal(private_metadata="m" * 3001))
    assert "/view/private_metadata" in message


async def test_input_blocks_need_a_submit_button(emu):
    view = modal(select_input([option("a", "a")]))
    del view["submit"]
    [message] = await open_error(emu, view)
    assert "submit" in message


def test_section_limits():
    assert validate_message_blocks([{"type": "section", "text": text("x" * 3001, "mrkdwn")}]) == [
        "[ERROR] must be less than 3001 characters [json-pointer:/blocks/0/text/text]"
    ]
    fields = [text(str(i), "mrkdwn") for i in range(11)]
    assert validate_message_blocks([{"type": "section", "fields": fields}]) == [
        "[ERROR] no more than 10 items allowed [json-pointer:/blocks/0/fields]"
    ]
    assert validate_message_blocks([{"type": "section", "fields": fields[:10]}]) == []


def test_ids_at_most_255_and_block_ids_unique():
    button = {"type": "button", "text": text("Go"), "action_id": "a" * 256}
    [error] = validate_message_blocks([{"type": "actions", "elements": [button]}])
    assert "/blocks/0/elements/0/action_id" in error
    [error] = validate_message_blocks([{"type": "divider", "block_id": "b" * 256}])
    assert "/blocks/0/block_id" in error
    [error] = validate_message_blocks([{"type": "divider", "block_id": "x"}] * 2)
    assert "duplicate block_id" in error


def test_unknown_types_and_bad_text_objects():
    [error] = validate_message_blocks([{"type": "carousel-ish"}])
    assert "unsupported type" in error
    [error] = validate_message_blocks([{"type": "header", "text": text("*bold*", "mrkdwn")}])
    assert "must be one of plain_text" in error
    [error] = validate_message_blocks([{"type": "section", "text": text("", "mrkdwn")}])
    assert "must be more than 0 characters" in error


def test_initial_option_must_be_one_of_the_options():
    block = select_input([option("a", "a")])
    block["element"]["initial_option"] = option("b", "b")
    [error] = validate_view(modal(block))
    assert "initial_option" in error


def test_a_realistic_request_modal_is_valid():
    view = modal(
        select_input([option("Production", "prod"), option("Staging", "staging")]),
        {
            "type": "input",
            "block_id": "device",
            "label": text("Device"),
            "element": {"type": "external_select", "action_id": "device", "min_query_length": 0},
        },
        {
            "type": "input",
            "block_id": "reason",
            "label": text("Reason"),
            "element": {
                "type": "plain_text_input",
                "action_id": "reason",
                "multiline": True,
                "max_length": 500,
            },
        },
        callback_id="request_access",
        private_metadata="{}",
        close=text("Cancel"),
    )
    assert validate_view(view) == []


def test_suggestion_answers():
    assert validate_options_response({"options": [option("a", "a")]}) == []
    assert validate_options_response({"options": []}) == []
    groups = {"option_groups": [{"label": text("Mine"), "options": [option("a", "a")]}]}
    assert validate_options_response(groups) == []
    too_many = {"options": [option(str(i), str(i)) for i in range(101)]}
    assert "no more than 100 items" in validate_options_response(too_many)[0]
    [error] = validate_options_response({"options": [option("x" * 76, "a")]})
    assert "/options/0/text/text" in error
    assert validate_options_response(None)
    assert validate_options_response({"options": [], "option_groups": []})
