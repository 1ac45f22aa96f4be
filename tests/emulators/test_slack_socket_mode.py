"""Socket Mode: hello, envelopes, acks, re-delivery, disconnect/reconnect, several
connections; with raw websockets and with the unmodified slack_sdk SocketModeClient."""

from __future__ import annotations

import asyncio
import json

import aiohttp
import pytest
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import DeliveryError, DriverError, SlackEmulator, User, Workspace
from emulators.slack.socket_mode import accepts_response_payload
from emulators.slack.testing import SocketModeTestApp

BOT, APP = "xoxb-test", "xapp-test"


@pytest.fixture
async def emu():
    ws = Workspace.seeded(seed=3, users=2)
    ws.add_user(User(id="U_ALICE", name="alice"))
    async with SlackEmulator(
        workspace=ws,
        bot_token=BOT,
        app_token=APP,
        ack_timeout=0.3,
    ) as emulator:
        yield emulator


async def socket_url(emu) -> str:
    response = await AsyncWebClient(base_url=emu.api_url).apps_connections_open(app_token=APP)
    return response["url"]


async def ack_all(payload, ack):
    await ack()


async def test_hello_then_envelope_then_ack_with_payload(emu):
    async with aiohttp.ClientSession() as session, session.ws_connect(await socket_url(emu)) as ws:
        hello = await ws.receive_json()
        assert hello["type"] == "hello"
        assert hello["num_connections"] == 1
        assert hello["connection_info"] == {"app_id": emu.workspace.app_id}
        assert "debug_info" in hello

        press = asyncio.create_task(emu.driver.press_shortcut("U_ALICE", "request_access"))
        envelope = await ws.receive_json()
        # Slack's interactive envelope: retry fields belong to Events API envelopes only,
        # and a shortcut's ack payload is not used.
        assert set(envelope) == {"envelope_id", "type", "payload", "accepts_response_payload"}
        assert envelope["type"] == "interactive"
        assert envelope["accepts_response_payload"] is False
        payload = envelope["payload"]
        assert payload["type"] == "shortcut"
        assert payload["callback_id"] == "request_access"
        assert payload["user"]["id"] == "U_ALICE"
        assert payload["team"]["id"] == emu.workspace.team_id
        assert payload["trigger_id"]
        assert "channel" not in payload

        await asyncio.sleep(0.05)
        await ws.send_json({"envelope_id": envelope["envelope_id"]})
        assert await press is None

    [record] = emu.acks
    assert record.envelope_id == envelope["envelope_id"]
    assert record.ack is None
    assert record.transport == "socket"
    assert 0.05 <= record.latency < 0.3
    assert emu.violations == []
    assert emu.user_errors == []


async def test_a_payload_in_a_shortcut_ack_is_a_violation(emu):
    async with aiohttp.ClientSession() as session, session.ws_connect(await socket_url(emu)) as ws:
        await ws.receive_json()
        press = asyncio.create_task(emu.driver.press_shortcut("U_ALICE", "request_access"))
        envelope = await ws.receive_json()
        await ws.send_json({"envelope_id": envelope["envelope_id"], "payload": {"seen": True}})
        await press
    assert [v.kind for v in emu.violations] == ["ack_payload_not_accepted"]


@pytest.mark.parametrize(
    ("payload_type", "accepts"),
    [
        ("shortcut", False),
        ("message_action", False),
        ("block_actions", False),
        ("view_closed", False),
        ("view_submission", True),
        ("block_suggestion", True),
    ],
)
def test_which_envelopes_accept_a_response_payload(payload_type, accepts):
    assert accepts_response_payload(payload_type) is accepts


async def test_tickets_are_single_use(emu):
    url = await socket_url(emu)
    async with aiohttp.ClientSession() as session:
        async with session.ws_connect(url) as ws:
            assert (await ws.receive_json())["type"] == "hello"
        with pytest.raises(aiohttp.WSServerHandshakeError) as info:
            await session.ws_connect(url)
        assert info.value.status == 401


async def test_an_unacked_envelope_is_not_resent_and_the_person_sees_an_error(emu):
    async with aiohttp.ClientSession() as session, session.ws_connect(await socket_url(emu)) as ws:
        await ws.receive_json()  # hello
        press = asyncio.create_task(emu.driver.press_shortcut("U_ALICE", "request_access"))
        first = await ws.receive_json()  # ignored, like a stuck app
        with pytest.raises(DeliveryError) as info:
            await press
        assert "Operation timed out" in str(info.value)
        with pytest.raises(TimeoutError):  # Slack does not retry interactions
            await ws.receive_json(timeout=0.5)
        # the ack arriving after the deadline is too late: the error was already shown
        await ws.send_json({"envelope_id": first["envelope_id"]})
        await emu.wait_until(lambda: emu.violations)

    [record] = emu.acks
    assert (record.acked, record.user_error) == (False, "timeout")
    assert [v.kind for v in emu.violations] == ["late_ack"]
    [shown] = emu.user_errors
    assert (shown.user_id, shown.payload_type, shown.envelope_id) == (
        "U_ALICE",
        "shortcut",
        first["envelope_id"],
    )
    assert any(e["kind"] == "user_error" for e in emu.timeline())


async def test_ack_for_an_unknown_envelope_is_a_violation(emu):
    async with aiohttp.ClientSession() as session, session.ws_connect(await socket_url(emu)) as ws:
        await ws.receive_json()
        await ws.send_json({"envelope_id": "not-one-of-ours"})
        await emu.wait_until(lambda: emu.violations)
    assert emu.violations[0].kind == "ack_unknown_envelope"


async def test_sdk_client_receives_and_acks(emu):
    seen = []

    async def handler(payload, ack):
        seen.append(payload["type"])
        await ack()

    async with SocketModeTestApp(emu, handler) as app:
        assert await emu.driver.press_shortcut("U_ALICE", "request_access") is None
        assert app.requests[0].type == "interactive"
        assert app.requests[0].accepts_response_payload is False
        assert app.requests[0].retry_attempt is None
    assert seen == ["shortcut"]
    assert emu.acks[0].acked


async def test_sdk_client_reconnects_after_disconnect(emu):
    async with SocketModeTestApp(emu, ack_all) as app:
        client = app.client
        assert client is not None
        first_client_session = client.current_session
        assert await emu.socket_disconnect() == 1
        # the SDK asks for a fresh URL and replaces its connection
        await emu.wait_for_call("apps.connections.open", count=2)
        await emu.wait_until(
            lambda: sum(e["kind"] == "socket_disconnected" for e in emu.timeline()) == 1
        )
        await emu.wait_until(lambda: emu.socket_connections == 1)
        for _ in range(100):  # the SDK swaps its session object right after connecting
            if client.current_session is not first_client_session:
                break
            await asyncio.sleep(0.01)
        assert client.current_session is not first_client_session
        assert await emu.driver.press_shortcut("U_ALICE", "request_access") is None
    assert emu.acks[-1].acked
    kinds = [e["kind"] for e in emu.timeline()]
    assert kinds.index("socket_disconnect_sent") < kinds.index("socket_disconnected")


async def test_several_connections_get_each_envelope_once(emu):
    counts = {"a": 0, "b": 0}

    def counting(name):
        async def handler(payload, ack):
            counts[name] += 1
            await ack()

        return handler

    async with SocketModeTestApp(emu, counting("a")), SocketModeTestApp(emu, counting("b")):
        assert emu.socket_connections == 2
        for _ in range(4):
            await emu.driver.press_shortcut("U_ALICE", "request_access")
    assert counts["a"] + counts["b"] == 4
    assert counts["a"] > 0
    assert counts["b"] > 0


async def test_no_app_connected(emu):
    with pytest.raises(DeliveryError, match="not acknowledged"):
        await emu.driver.press_shortcut("U_ALICE", "request_access")
    assert emu.active_transport is None
    assert [e.reason for e in emu.user_errors] == ["no_connection"]


async def test_forced_http_without_an_url_is_a_driver_error(emu):
    emu.delivery = "http"
    with pytest.raises(DriverError, match="no HTTP app URL"):
        await emu.driver.press_shortcut("U_ALICE", "request_access")


async def test_raw_envelope_is_json_text(emu):
    async with aiohttp.ClientSession() as session, session.ws_connect(await socket_url(emu)) as ws:
        await ws.receive_json()
        press = asyncio.create_task(emu.driver.press_shortcut("U_ALICE", "request_access"))
        message = await ws.receive()
        assert message.type == aiohttp.WSMsgType.TEXT
        envelope = json.loads(message.data)
        await ws.send_str(json.dumps({"envelope_id": envelope["envelope_id"]}))
        await press


async def test_a_dropped_ack_is_a_user_error_and_is_not_resent(emu):
    seen = []

    async def handler(payload, ack):
        seen.append(payload["type"])
        await ack()

    async with SocketModeTestApp(emu, handler):
        emu.drop_next_socket_ack()
        with pytest.raises(DeliveryError):
            await emu.driver.press_shortcut("U_ALICE", "request_access")
        assert await emu.driver.press_shortcut("U_ALICE", "request_access") is None
    assert seen == ["shortcut", "shortcut"]  # once per press, never re-sent
    assert [e.reason for e in emu.user_errors] == ["timeout"]
    assert [a.acked for a in emu.acks] == [False, True]
    assert emu.violations == []
