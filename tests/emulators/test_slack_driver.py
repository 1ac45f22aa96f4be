"""The driver end to end: a small request-access app on the unmodified slack_sdk Socket Mode
client, driven by simulated people, with payloads checked against Slack's shapes."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from emulators.slack import (
    AppResponseError,
    Channel,
    DriverError,
    SlackEmulator,
    User,
    Workspace,
)
from emulators.slack.testing import SocketModeTestApp

BOT, APP = "xoxb-test", "xapp-test"
AUDIT = "C06TH49GKHC"


def text(value: str, kind: str = "plain_text") -> dict:
    return {"type": kind, "text": value}


def option(label: str, value: str) -> dict:
    return {"text": text(label), "value": value}


PROFILE = {
    "type": "input",
    "block_id": "profile_block",
    "dispatch_action": True,
    "label": text("Profile"),
    "element": {
        "type": "static_select",
        "action_id": "profile",
        "options": [option("Production", "prod"), option("Staging", "staging")],
    },
}
DEVICE = {
    "type": "input",
    "block_id": "device_block",
    "optional": True,
    "label": text("Device"),
    "element": {"type": "external_select", "action_id": "device"},
}
REASON = {
    "type": "input",
    "block_id": "reason_block",
    "label": text("Reason"),
    "element": {"type": "plain_text_input", "action_id": "reason", "max_length": 200},
}
DURATION = {
    "type": "input",
    "block_id": "duration_block",
    "label": text("Duration"),
    "element": {
        "type": "radio_buttons",
        "action_id": "duration",
        "options": [option("1 hour", "1h"), option("4 hours", "4h")],
    },
}


def request_modal(*blocks: dict) -> dict:
    return {
        "type": "modal",
        "callback_id": "request_access",
        "title": text("Request access"),
        "submit": text("Request"),
        "close": text("Cancel"),
        "private_metadata": "v1",
        "notify_on_close": True,
        "blocks": list(blocks),
    }


class AccessApp:
    """What Accessbot's intake does, reduced to the Slack side."""

    def __init__(self) -> None:
        self.payloads: list[dict] = []
        self.socket: SocketModeTestApp | None = None
        self.suggestion_answer: dict = {
            "options": [option("laptop-alice", "node-1"), option("laptop-old", "node-2")]
        }
        self.submit_ack: dict | None = None
        self.done = asyncio.Event()

    async def handle(self, payload: dict, ack) -> None:
        self.payloads.append(payload)
        assert self.socket is not None
        web = self.socket.web
        kind = payload["type"]
        if kind == "shortcut":
            await ack()
            await web.views_open(
                trigger_id=payload["trigger_id"], view=request_modal(PROFILE, DEVICE, REASON)
            )
        elif kind == "block_actions" and payload["container"]["type"] == "view":
            await ack()
            view = payload["view"]
            await web.views_update(
                view_id=view["id"],
                hash=view["hash"],
                view=request_modal(PROFILE, DEVICE, DURATION, REASON),
            )
        elif kind == "block_suggestion":
            await ack(self.suggestion_answer)
        elif kind == "view_submission":
            values = payload["view"]["state"]["values"]
            reason = values["reason_block"]["reason"]["value"]
            if self.submit_ack is not None:
                await ack(self.submit_ack)
            elif len(reason) < 10:
                await ack({"response_action": "errors", "errors": {"reason_block": "Tell us more"}})
            else:
                await ack()
                await web.chat_postMessage(
                    channel=AUDIT,
                    text="Access request",
                    blocks=[
                        {"type": "section", "text": text(f"Request: {reason}", "mrkdwn")},
                        {
                            "type": "actions",
                            "block_id": "decision",
                            "elements": [
                                {
                                    "type": "button",
                                    "action_id": "approve",
                                    "text": text("Approve"),
                                    "style": "primary",
                                    "value": "req-1",
                                },
                                {
                                    "type": "button",
                                    "action_id": "deny",
                                    "text": text("Deny"),
                                    "value": "req-1",
                                },
                            ],
                        },
                    ],
                )
        elif kind == "block_actions":
            await ack()
            await web.chat_update(
                channel=payload["channel"]["id"],
                ts=payload["message"]["ts"],
                text=f"Approved by <@{payload['user']['id']}>",
                blocks=[],
            )
            async with (
                aiohttp.ClientSession() as session,
                session.post(payload["response_url"], json={"text": "Thanks, noted."}) as resp,
            ):
                assert resp.status == 200
            self.done.set()
        else:
            await ack()


@pytest.fixture
async def emu():
    ws = Workspace.seeded(seed=5, users=3)
    ws.add_user(User(id="U_ALICE", name="alice", email="alice@example.com"))
    ws.add_user(User(id="U_BOB", name="bob", email="bob@example.com"))
    ws.add_channel(Channel(id=AUDIT, name="access-audit"))
    async with SlackEmulator(
        workspace=ws, bot_token=BOT, app_token=APP, ack_timeout=1.0
    ) as emulator:
        yield emulator


@pytest.fixture
async def app(emu):
    access = AccessApp()
    access.socket = SocketModeTestApp(emu, access.handle)
    async with access.socket:
        yield access


async def open_modal(emu, user: str = "U_ALICE") -> dict:
    assert await emu.driver.press_shortcut(user, callback_id="request_access") is None
    return await emu.driver.wait_for_view(user, callback_id="request_access")


async def test_full_request_flow(emu, app):
    d = emu.driver
    view = await open_modal(emu)
    assert [b["block_id"] for b in view["blocks"]] == [
        "profile_block",
        "device_block",
        "reason_block",
    ]
    shortcut = app.payloads[0]
    assert shortcut["type"] == "shortcut"
    assert shortcut["user"]["id"] == "U_ALICE"

    # choose a profile: dispatch_action input -> block_actions, and the app updates the view
    assert await d.select("U_ALICE", "profile", "prod") is None
    actions = app.payloads[-1]
    assert actions["type"] == "block_actions"
    assert actions["container"] == {"type": "view", "view_id": view["id"]}
    assert actions["trigger_id"]
    assert actions["view"]["hash"] == view["hash"]
    [action] = actions["actions"]
    assert action["action_id"] == "profile"
    assert action["block_id"] == "profile_block"
    assert action["type"] == "static_select"
    assert action["selected_option"] == option("Production", "prod")
    assert (
        actions["view"]["state"]["values"]["profile_block"]["profile"]["selected_option"]["value"]
        == "prod"
    )
    updated = await d.wait_for_view("U_ALICE", newer_than=view)
    assert updated["id"] == view["id"]
    assert "duration_block" in [b["block_id"] for b in updated["blocks"]]
    # what the user chose survives the update, like on Slack
    assert (
        updated["state"]["values"]["profile_block"]["profile"]["selected_option"]["value"] == "prod"
    )

    # type in the device search
    with pytest.raises(DriverError, match="min_query_length"):
        await d.type_in_external_select("U_ALICE", "device", "la")
    answer = await d.type_in_external_select("U_ALICE", "device", "lap")
    assert [o["value"] for o in answer["options"]] == ["node-1", "node-2"]
    suggestion = app.payloads[-1]
    assert suggestion["type"] == "block_suggestion"
    assert (suggestion["action_id"], suggestion["block_id"], suggestion["value"]) == (
        "device",
        "device_block",
        "lap",
    )
    assert suggestion["view"]["id"] == view["id"]

    # choosing in a plain input block changes state only: Slack sends nothing
    sent = len(app.payloads)
    assert await d.select("U_ALICE", "device", "node-1") is None
    assert len(app.payloads) == sent
    with pytest.raises(DriverError, match="not an option"):
        await d.select("U_ALICE", "device", "node-9")

    # a too-short reason: the app answers with errors and the view stays
    ack = await d.submit_view("U_ALICE", values={"reason": "because", "duration": "4h"})
    assert ack == {"response_action": "errors", "errors": {"reason_block": "Tell us more"}}
    assert d.current_view("U_ALICE")["id"] == view["id"]
    submission = app.payloads[-1]
    assert submission["type"] == "view_submission"
    assert submission["view"]["callback_id"] == "request_access"
    assert submission["view"]["private_metadata"] == "v1"
    values = submission["view"]["state"]["values"]
    assert values["profile_block"]["profile"] == {
        "type": "static_select",
        "selected_option": option("Production", "prod"),
    }
    assert values["device_block"]["device"]["selected_option"]["value"] == "node-1"
    assert values["duration_block"]["duration"] == {
        "type": "radio_buttons",
        "selected_option": option("4 hours", "4h"),
    }
    assert values["reason_block"]["reason"] == {"type": "plain_text_input", "value": "because"}

    # fixed: the empty ack closes the modal, and the app posts the request for approvers
    assert await d.submit_view("U_ALICE", values={"reason": "prod database is on fire"}) is None
    assert d.current_view("U_ALICE") is None
    second = app.payloads[-1]["view"]["state"]["values"]
    assert second["duration_block"]["duration"]["selected_option"]["value"] == "4h"  # kept
    [posted] = await emu.wait_for_messages(AUDIT)
    assert posted.text == "Access request"

    # an approver presses Approve on that message
    assert await d.press_button("U_BOB", AUDIT, posted.ts, "approve") is None
    click = app.payloads[-1]
    assert click["type"] == "block_actions"
    assert click["user"]["id"] == "U_BOB"
    assert click["container"] == {
        "type": "message",
        "message_ts": posted.ts,
        "channel_id": AUDIT,
        "is_ephemeral": False,
    }
    assert click["channel"] == {"id": AUDIT, "name": "access-audit"}
    assert click["message"]["ts"] == posted.ts
    assert click["message"]["bot_id"] == emu.workspace.bot_id
    assert click["response_url"].startswith(emu.base_url + "/actions/")
    assert click["trigger_id"]
    [button] = click["actions"]
    assert button["action_id"] == "approve"
    assert button["block_id"] == "decision"
    assert button["value"] == "req-1"
    assert button["type"] == "button"
    assert button["style"] == "primary"
    assert button["text"] == text("Approve")

    await asyncio.wait_for(app.done.wait(), 2)
    [message] = emu.messages(AUDIT, include_ephemeral=False)
    assert message.text == "Approved by <@U_BOB>"
    assert len(message.updates) == 1
    [thanks] = emu.ephemerals("U_BOB")
    assert thanks.text == "Thanks, noted."

    assert [v["hash"] != "" for v in emu.views("U_ALICE")] == [True, True]
    assert all(a.acked for a in emu.acks)
    assert emu.violations == []
    kinds = [e["kind"] for e in emu.timeline()]
    assert kinds.count("user_action") == 7


async def test_press_button_value_override_and_visibility(emu, app):
    web = app.socket.web
    posted = await web.chat_postMessage(
        channel="U_ALICE",
        text="Your request",
        blocks=[
            {
                "type": "actions",
                "elements": [{"type": "button", "action_id": "cancel", "text": text("Cancel")}],
            }
        ],
    )
    dm = posted["channel"]
    with pytest.raises(DriverError, match="cannot see the DM"):
        await emu.driver.press_button("U_BOB", dm, posted["ts"], "cancel")
    with pytest.raises(DriverError, match="no element"):
        await emu.driver.press_button("U_ALICE", dm, posted["ts"], "nope")
    await emu.driver.press_button("U_ALICE", dm, posted["ts"], "cancel", value="req-9")
    click = app.payloads[-1]
    assert click["actions"][0]["value"] == "req-9"
    assert click["channel"]["name"] == "directmessage"
    # block_ids Slack filled in show up in the payload
    assert click["actions"][0]["block_id"] == click["message"]["blocks"][0]["block_id"]


async def test_response_actions_update_push_clear(emu, app):
    d = emu.driver
    await open_modal(emu)
    app.submit_ack = {"response_action": "push", "view": request_modal(REASON)}
    await d.submit_view("U_ALICE", values={"profile": "prod", "device": None, "reason": "r" * 12})
    assert len(emu._state.modals.stacks["U_ALICE"]) == 2
    app.submit_ack = {
        "response_action": "update",
        "view": {**request_modal(REASON), "private_metadata": "v2"},
    }
    await d.submit_view("U_ALICE", values={"reason": "r" * 12})
    assert d.current_view("U_ALICE")["private_metadata"] == "v2"
    app.submit_ack = {"response_action": "clear"}
    await d.submit_view("U_ALICE", values={"reason": "r" * 12})
    assert d.current_view("U_ALICE") is None


async def test_client_side_checks_before_submit(emu, app):
    d = emu.driver
    await open_modal(emu)
    with pytest.raises(DriverError, match="required input 'Profile' is empty"):
        await d.submit_view("U_ALICE", values={"reason": "long enough reason"})
    with pytest.raises(DriverError, match="max_length"):
        await d.submit_view("U_ALICE", values={"profile": "prod", "reason": "x" * 201})
    with pytest.raises(DriverError, match="no input with action_id"):
        await d.submit_view("U_ALICE", values={"profile": "prod", "typo": "x"})
    with pytest.raises(DriverError, match="not an option"):
        await d.submit_view("U_ALICE", values={"profile": "dev"})
    assert all(p["type"] != "view_submission" for p in app.payloads)


async def test_invalid_suggestion_answer_is_a_violation(emu, app):
    await open_modal(emu)
    app.suggestion_answer = {"options": [option("x" * 76, "node-1")]}
    with pytest.raises(AppResponseError, match="invalid_suggestion_options"):
        await emu.driver.type_in_external_select("U_ALICE", "device", "lap")
    app.suggestion_answer = {"options": [option(str(i), str(i)) for i in range(101)]}
    with pytest.raises(AppResponseError):
        await emu.driver.type_in_external_select("U_ALICE", "device", "lap")
    assert {v.kind for v in emu.violations} == {"invalid_suggestion_options"}


async def test_errors_for_a_block_that_is_not_an_input(emu, app):
    await open_modal(emu)
    app.submit_ack = {"response_action": "errors", "errors": {"nope": "bad"}}
    with pytest.raises(AppResponseError, match="errors_unknown_block"):
        await emu.driver.submit_view("U_ALICE", values={"profile": "prod", "reason": "r" * 12})


async def test_invalid_update_view_is_a_violation(emu, app):
    await open_modal(emu)
    bad = {**request_modal(REASON), "title": text("x" * 30)}
    app.submit_ack = {"response_action": "update", "view": bad}
    with pytest.raises(AppResponseError, match="invalid_update_view"):
        await emu.driver.submit_view("U_ALICE", values={"profile": "prod", "reason": "r" * 12})


async def test_close_view_notifies_when_asked(emu, app):
    view = await open_modal(emu)
    assert await emu.driver.close_view("U_ALICE") is None
    closed = app.payloads[-1]
    assert closed["type"] == "view_closed"
    assert closed["view"]["id"] == view["id"]
    assert closed["is_cleared"] is False
    assert emu.driver.current_view("U_ALICE") is None
    with pytest.raises(DriverError, match="no modal open"):
        await emu.driver.close_view("U_ALICE")


async def test_trigger_from_the_driver_expires(emu, app):
    emu._state.triggers.ttl = 0.0  # as if the app took more than 3 s to call views.open

    assert await emu.driver.press_shortcut("U_ALICE", "request_access") is None
    [call] = await emu.wait_for_call("views.open")
    assert call.error == "expired_trigger_id"
    assert emu.driver.current_view("U_ALICE") is None


async def test_unknown_or_deactivated_people_cannot_act(emu, app):
    emu.workspace.add_user(User(id="U_GONE", name="gone", deleted=True))
    with pytest.raises(DriverError, match="deactivated"):
        await emu.driver.press_shortcut("U_GONE", "request_access")
    with pytest.raises(DriverError, match="no user"):
        await emu.driver.press_shortcut("U_NOBODY", "request_access")
