"""Slack emulator App Home: views.publish as documented (errors, 100 blocks, hash) and
`app_home_opened` delivered over Socket Mode and signed HTTP."""

from __future__ import annotations

import json

import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackEmulator, User, Workspace
from emulators.slack.testing import SocketModeTestApp
from tests.emulators.test_slack_http_delivery import SECRET, FakeApp

BOT, APP = "xoxb-test", "xapp-test"


def home(blocks: int = 1, **extra) -> dict:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "hi"}}
    return {"type": "home", "blocks": [dict(section) for _ in range(blocks)], **extra}


@pytest.fixture
async def emu():
    ws = Workspace.seeded(seed=7, users=2)
    ws.add_user(User(id="U_ALICE", name="alice", email="alice@example.com"))
    ws.add_user(User(id="U_GONE", name="gone", deleted=True))
    async with SlackEmulator(
        workspace=ws, bot_token=BOT, app_token=APP, signing_secret=SECRET
    ) as emulator:
        yield emulator


@pytest.fixture
def web(emu):
    return AsyncWebClient(token=BOT, base_url=emu.api_url)


async def error_of(call) -> str:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value.response["error"]


async def test_publish_stores_the_home_and_answers_the_view(emu, web):
    response = await web.views_publish(user_id="U_ALICE", view=home(2))
    view = response["view"]
    assert view["type"] == "home"
    assert len(view["blocks"]) == 2
    assert all(b["block_id"] for b in view["blocks"])
    assert emu.home("U_ALICE")["id"] == view["id"]
    again = (await web.views_publish(user_id="U_ALICE", view=home(1)))["view"]
    assert again["id"] == view["id"]
    assert again["hash"] != view["hash"]
    assert len(emu.home("U_ALICE")["blocks"]) == 1
    assert len(emu.homes_published("U_ALICE")) == 2


async def test_publish_with_a_stale_hash_is_a_conflict(emu, web):
    first = (await web.views_publish(user_id="U_ALICE", view=home()))["view"]
    await web.views_publish(user_id="U_ALICE", view=home(), hash=first["hash"])
    assert (
        await error_of(web.views_publish(user_id="U_ALICE", view=home(), hash=first["hash"]))
        == "hash_conflict"
    )


async def test_a_hundred_blocks_pass_and_a_hundred_and_one_do_not(emu, web):
    await web.views_publish(user_id="U_ALICE", view=home(100))
    assert await error_of(web.views_publish(user_id="U_ALICE", view=home(101))) == (
        "invalid_arguments"
    )
    assert len(emu.home("U_ALICE")["blocks"]) == 100


@pytest.mark.parametrize("user_id", ["U_NOBODY", "U_GONE"])
async def test_publish_to_no_such_user(emu, web, user_id):
    with pytest.raises(SlackApiError) as info:
        await web.views_publish(user_id=user_id, view=home())
    assert info.value.response["error"] == "invalid_arguments"
    assert info.value.response["response_metadata"]["messages"] == ["invalid `user_id`"]


async def test_publish_a_modal_or_with_the_home_tab_off(emu, web):
    modal = {"type": "modal", "title": {"type": "plain_text", "text": "x"}, "blocks": []}
    assert await error_of(web.views_publish(user_id="U_ALICE", view=modal)) == ("invalid_arguments")
    emu.set_home_tab_enabled(False)
    assert await error_of(web.views_publish(user_id="U_ALICE", view=home())) == "not_enabled"


async def test_too_large_a_home(emu, web):
    big = home(1)
    big["private_metadata"] = "x" * 260_000
    assert await error_of(web.views_publish(user_id="U_ALICE", view=big)) == "view_too_large"


async def test_app_home_opened_over_socket_mode(emu, web):
    received = []

    async def handler(payload, ack):
        received.append(payload)
        await ack()

    async with SocketModeTestApp(emu, handler) as app:
        await emu.driver.open_home("U_ALICE")
        await web.views_publish(user_id="U_ALICE", view=home())
        await emu.driver.open_home("U_ALICE")
    first, second = received
    assert app.requests[0].type == "events_api"
    assert first["type"] == "event_callback"
    assert first["event_id"].startswith("Ev")
    event = first["event"]
    assert (event["type"], event["user"], event["tab"]) == ("app_home_opened", "U_ALICE", "home")
    assert event["channel"] == emu.dm_channel("U_ALICE")
    assert "view" not in event  # nothing published yet
    assert second["event"]["view"]["id"] == emu.home("U_ALICE")["id"]


async def test_app_home_opened_over_signed_http(emu):
    emu.delivery = "http"
    async with FakeApp() as app:
        emu.set_http_app_url(app.url)
        await emu.driver.open_home("U_ALICE", tab="messages")
    (request,) = app.requests
    assert request["valid"]
    assert request["headers"]["Content-Type"] == "application/json"
    assert SignatureVerifier(SECRET).is_valid_request(request["body"], request["headers"])
    event = json.loads(request["body"])["event"]
    assert (event["type"], event["tab"]) == ("app_home_opened", "messages")


async def test_pressing_a_home_button_sends_block_actions_from_the_view(emu, web):
    button = {
        "type": "button",
        "action_id": "go",
        "value": "v2",
        "text": {"type": "plain_text", "text": "Go"},
    }
    blocks = [
        {"type": "actions", "block_id": "one", "elements": [{**button, "value": "v1"}]},
        {"type": "actions", "block_id": "two", "elements": [button]},
    ]
    await web.views_publish(user_id="U_ALICE", view={"type": "home", "blocks": blocks})
    received = []

    async def handler(payload, ack):
        received.append(payload)
        await ack()

    async with SocketModeTestApp(emu, handler):
        await emu.driver.press_home_button("U_ALICE", "go", block_id="two")
    (payload,) = received
    assert payload["type"] == "block_actions"
    assert payload["view"]["type"] == "home"
    assert payload["container"]["type"] == "view"
    assert payload["actions"][0]["value"] == "v2"
    assert payload["trigger_id"]
