"""HTTP mode: signed form-encoded deliveries to an app URL, acks, forging, retries."""

from __future__ import annotations

import asyncio
import json
import time
from urllib.parse import parse_qs

import pytest
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from emulators.slack import DeliveryError, SlackEmulator, User, Workspace
from emulators.slack.testing import SocketModeTestApp

BOT, APP, SECRET = "xoxb-test", "xapp-test", "shhh"


class FakeApp:
    """An HTTP-mode app: verifies Slack's signature like Bolt does, answers as told."""

    def __init__(self) -> None:
        self.verifier = SignatureVerifier(SECRET)
        self.requests: list[dict] = []
        self.replies: list[tuple[int, str, float]] = []  # status, body, delay
        self.runner: web.AppRunner | None = None
        self.url = ""

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.text()
        valid = self.verifier.is_valid_request(body, dict(request.headers))
        self.requests.append({"body": body, "headers": dict(request.headers), "valid": valid})
        if not valid:
            return web.Response(status=401)
        status, text, delay = self.replies.pop(0) if self.replies else (200, "", 0.0)
        await asyncio.sleep(delay)
        return web.Response(status=status, text=text, content_type="application/json")

    async def __aenter__(self) -> FakeApp:
        app = web.Application()
        app.router.add_post("/slack/events", self.handle)
        self.runner = web.AppRunner(app)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        host, port = self.runner.addresses[0][:2]
        self.url = f"http://{host}:{port}/slack/events"
        return self

    async def __aexit__(self, *exc_info) -> None:
        assert self.runner is not None
        await self.runner.cleanup()


@pytest.fixture
async def emu():
    ws = Workspace.seeded(seed=4, users=2)
    ws.add_user(User(id="U_ALICE", name="alice"))
    async with SlackEmulator(
        workspace=ws,
        bot_token=BOT,
        app_token=APP,
        signing_secret=SECRET,
        ack_timeout=0.3,
    ) as emulator:
        yield emulator


@pytest.fixture
async def app(emu):
    async with FakeApp() as fake:
        emu.set_http_app_url(fake.url)
        yield fake


async def test_delivery_is_signed_form_encoded_and_verifies(emu, app):
    app.replies.append((200, "", 0.0))
    assert emu.active_transport == "http"
    assert await emu.driver.press_shortcut("U_ALICE", "request_access") is None
    [request] = app.requests
    assert request["valid"] is True
    assert request["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    timestamp = int(request["headers"]["X-Slack-Request-Timestamp"])
    assert abs(time.time() - timestamp) < 5
    assert request["headers"]["X-Slack-Signature"] == emu.signing.produce_signature(
        request["body"], timestamp
    )
    payload = json.loads(parse_qs(request["body"])["payload"][0])
    assert payload["type"] == "shortcut"
    assert payload["callback_id"] == "request_access"
    [record] = emu.acks
    assert (record.transport, record.http_status, record.acked) == ("http", 200, True)
    assert record.latency is not None


async def test_json_ack_body_is_returned(emu, app):
    app.replies.append((200, json.dumps({"response_action": "clear"}), 0.0))
    assert await emu.driver.press_shortcut("U_ALICE", "x") == {"response_action": "clear"}


def test_produce_signature_matches_the_sdk():
    emu = SlackEmulator(signing_secret=SECRET)
    body, timestamp = "payload=%7B%7D", "1700000000"
    expected = SignatureVerifier(SECRET).generate_signature(timestamp=timestamp, body=body)
    assert emu.signing.produce_signature(body, timestamp) == expected
    assert SECRET not in repr(emu.signing)


@pytest.mark.parametrize("kind", ["bad_signature", "stale_timestamp"])
async def test_forged_deliveries_fail_verification(emu, app, kind):
    emu.driver.forge_next_http(kind)
    with pytest.raises(DeliveryError) as info:
        await emu.driver.press_shortcut("U_ALICE", "request_access")
    assert info.value.status == 401
    [request] = app.requests  # a forgery is not retried
    assert request["valid"] is False
    timestamp = int(request["headers"]["X-Slack-Request-Timestamp"])
    signature_is_right = request["headers"]["X-Slack-Signature"] == emu.signing.produce_signature(
        request["body"], timestamp
    )
    if kind == "stale_timestamp":
        assert time.time() - timestamp >= 359
        assert signature_is_right  # only the age is wrong
    else:
        assert not signature_is_right
    assert emu.acks[-1].forged == kind
    # the next delivery is genuine again
    assert await emu.driver.press_shortcut("U_ALICE", "request_access") is None
    assert app.requests[-1]["valid"] is True


async def test_a_slow_app_is_not_retried_and_the_person_sees_an_error(emu, app):
    app.replies += [(200, "", 0.5), (200, '{"ok": 1}', 0.0)]
    with pytest.raises(DeliveryError) as info:
        await emu.driver.press_shortcut("U_ALICE", "request_access")
    assert info.value.record.user_error == "timeout"
    [request] = app.requests  # Slack does not retry interactions
    assert "X-Slack-Retry-Num" not in request["headers"]
    [shown] = emu.user_errors
    assert (shown.user_id, shown.payload_type, shown.reason) == ("U_ALICE", "shortcut", "timeout")
    assert "3 seconds" in shown.text


async def test_a_server_error_is_not_retried_and_the_person_sees_an_error(emu, app):
    app.replies += [(500, "", 0.0)] * 2
    with pytest.raises(DeliveryError) as info:
        await emu.driver.press_shortcut("U_ALICE", "request_access")
    assert info.value.status == 500
    assert len(app.requests) == 1
    assert [e.reason for e in emu.user_errors] == ["http_error"]


async def test_a_forgery_shows_nobody_an_error(emu, app):
    emu.driver.forge_next_http("bad_signature")
    with pytest.raises(DeliveryError):
        await emu.driver.press_shortcut("U_ALICE", "request_access")
    assert emu.user_errors == []


async def test_non_json_ack_body_is_a_violation(emu, app):
    app.replies.append((200, "thanks!", 0.0))
    assert await emu.driver.press_shortcut("U_ALICE", "request_access") is None
    assert emu.violations[0].kind == "ack_body_not_json_object"


async def test_socket_mode_wins_when_connected_unless_http_is_forced(emu, app):
    async def handler(payload, ack):
        await ack({"via": "socket"})

    async with SocketModeTestApp(emu, handler):
        assert emu.active_transport == "socket"
        assert await emu.driver.press_shortcut("U_ALICE", "x") == {"via": "socket"}
        emu.delivery = "http"
        assert await emu.driver.press_shortcut("U_ALICE", "x") is None
        assert len(app.requests) == 1
        emu.delivery = None
    assert [a.transport for a in emu.acks] == ["socket", "http"]
