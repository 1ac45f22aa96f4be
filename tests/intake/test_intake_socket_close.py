"""Stopping intake does not wait on a Socket Mode peer that never answers the close frame
(slack_sdk's close waits for the closing handshake): it gives up after CLOSE_SECONDS,
closes the HTTP session itself and says so in one log line."""

from __future__ import annotations

import asyncio
import json
import time

import pytest
from aiohttp import web
from slack_sdk.web.async_client import AsyncWebClient
from structlog.testing import capture_logs

from services.intake.entrypoints import transport_socket
from services.intake.entrypoints.transport_socket import SocketTransport
from services.intake.handlers.dispatcher import Dispatcher

# A Slack stand-in served in this process (one that misbehaves as no emulator would).
pytestmark = pytest.mark.emulator


async def _silent_socket_peer() -> tuple[web.AppRunner, str]:
    """apps.connections.open plus a websocket that says hello, then never reads again."""

    async def connections_open(request: web.Request) -> web.Response:
        return web.json_response({"ok": True, "url": f"ws://{request.host}/ws"})

    async def websocket(request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(autoclose=False, autoping=False)
        await ws.prepare(request)
        await ws.send_str(json.dumps({"type": "hello", "num_connections": 1}))
        await asyncio.Event().wait()  # cancelled when the runner is cleaned up
        return ws

    app = web.Application()
    app.router.add_post("/api/apps.connections.open", connections_open)
    app.router.add_get("/ws", websocket)
    runner = web.AppRunner(app, handler_cancellation=True)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}/api/"


async def test_a_peer_that_never_closes_does_not_hold_the_stop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport_socket, "CLOSE_SECONDS", 0.5)
    runner, api_url = await _silent_socket_peer()
    try:
        # The dispatcher is never reached: the peer sends no interaction.
        dispatcher: Dispatcher = None  # type: ignore[assignment]
        transport = SocketTransport(
            dispatcher,
            app_token="xapp-1-silent",
            web_client=AsyncWebClient(token="xoxb-silent", base_url=api_url),
        )
        await transport.start()
        assert await transport.connected()
        started = time.monotonic()
        with capture_logs() as logs:
            await transport.stop()
        assert time.monotonic() - started < 3.0
        assert [e["event"] for e in logs if e["log_level"] == "warning"] == [
            "socket.close_timed_out"
        ]
        assert not await transport.connected()
    finally:
        await runner.cleanup()
