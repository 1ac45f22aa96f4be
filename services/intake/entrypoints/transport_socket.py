"""Socket Mode: Slack pushes interactions over a websocket; no public URL needed.

Only translates: each `interactive` or `events_api` envelope (`app_home_opened`) goes
to the dispatcher, whose ack becomes the envelope's response payload.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

from services.intake.handlers.dispatcher import Dispatcher
from services.intake.ports import AckBody

log = structlog.get_logger("accessbot.intake.socket")

CONNECT_WAIT_SECONDS = 10.0
DRAIN_SECONDS = 5.0
CLOSE_SECONDS = 5.0  # slack_sdk's close waits on the websocket's closing handshake


class SocketTransport:
    """One Socket Mode connection (slack_sdk reconnects it on `disconnect` or failure)."""

    def __init__(
        self, dispatcher: Dispatcher, *, app_token: str, web_client: AsyncWebClient
    ) -> None:
        self._dispatcher = dispatcher
        self._app_token = app_token
        self._web_client = web_client
        self._client: SocketModeClient | None = None
        self._connecting: asyncio.Task[None] | None = None
        self._inflight: set[asyncio.Task[object]] = set()

    async def start(self) -> None:
        """Connect; if Slack is not reachable yet, keep trying in the background."""
        # Built here, not earlier: the client starts tasks on the running loop.
        client = SocketModeClient(app_token=self._app_token, web_client=self._web_client)
        client.socket_mode_request_listeners.append(self._on_request)
        self._client = client
        connecting = client.connect()  # type: ignore[no-untyped-call]  # slack_sdk: unannotated
        self._connecting = asyncio.create_task(connecting, name="intake-socket-connect")
        done, _ = await asyncio.wait({self._connecting}, timeout=CONNECT_WAIT_SECONDS)
        if not done:
            log.warning("socket.not_connected_yet", waited_s=CONNECT_WAIT_SECONDS)

    async def connected(self) -> bool:
        """Ready check: the websocket is up."""
        return self._client is not None and await self._client.is_connected()

    async def stop(self) -> None:
        """Let in-flight interactions finish briefly, then close the connection."""
        if self._inflight:
            await asyncio.wait(self._inflight, timeout=DRAIN_SECONDS)
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        if self._client is not None:
            closing = self._client.close()  # type: ignore[no-untyped-call]  # slack_sdk: unannotated
            try:
                await asyncio.wait_for(closing, timeout=CLOSE_SECONDS)
            except TimeoutError:
                # A peer that never answers the close frame must not hold the shutdown;
                # the HTTP session slack_sdk would have closed after it is closed here.
                log.warning("socket.close_timed_out", waited_s=CLOSE_SECONDS)
                await self._client.aiohttp_client_session.close()
            self._client = None

    async def _on_request(
        self, client: AsyncBaseSocketModeClient, request: SocketModeRequest
    ) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._inflight.add(task)
        try:
            if request.type not in ("interactive", "events_api"):
                # Slash commands are not part of this app: ack and drop.
                await client.send_socket_mode_response(
                    SocketModeResponse(envelope_id=request.envelope_id)
                )
                return

            async def ack(body: AckBody) -> None:
                await client.send_socket_mode_response(
                    SocketModeResponse(envelope_id=request.envelope_id, payload=body)
                )

            await self._dispatcher.deliver(
                request.payload, ack, retry_attempt=request.retry_attempt
            )
        finally:
            if task is not None:
                self._inflight.discard(task)
