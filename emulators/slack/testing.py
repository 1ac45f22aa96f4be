"""Test helper: a minimal Socket Mode app on the unmodified slack_sdk clients.

    async with SocketModeTestApp(emu, handler) as app:
        await emu.driver.press_shortcut("U1", "request_access")

`handler(payload, ack)` is awaited for every interactive payload; it must call
`await ack()` or `await ack({...})` (the ack payload), like a Bolt listener, and may
then use `app.web` (an AsyncWebClient with the bot token) to call the Web API.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from slack_sdk.socket_mode.aiohttp import SocketModeClient
from slack_sdk.socket_mode.async_client import AsyncBaseSocketModeClient
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from slack_sdk.web.async_client import AsyncWebClient

if TYPE_CHECKING:
    from emulators.slack.server import SlackEmulator


class Ack(Protocol):
    async def __call__(self, payload: dict[str, Any] | None = None) -> None: ...


Handler = Callable[[dict[str, Any], Ack], Awaitable[None]]


class SocketModeTestApp:
    def __init__(
        self,
        emulator: SlackEmulator,
        handler: Handler,
        *,
        bot_token: str | None = None,
        app_token: str | None = None,
    ) -> None:
        self._emu = emulator
        self._handler = handler
        self._app_token = app_token or emulator.app_token
        self.web = AsyncWebClient(token=bot_token or emulator.bot_token, base_url=emulator.api_url)
        self.requests: list[SocketModeRequest] = []
        self.client: SocketModeClient | None = None

    async def start(self, timeout: float = 2.0) -> None:
        """Connect and wait until the emulator counts the connection."""
        before = self._emu.socket_connections
        self.client = SocketModeClient(
            app_token=self._app_token,
            web_client=AsyncWebClient(base_url=self._emu.api_url),
            ping_interval=1,
        )
        self.client.socket_mode_request_listeners.append(self._on_request)
        await self.client.connect()  # type: ignore[no-untyped-call]
        await self._emu.wait_until(lambda: self._emu.socket_connections > before, timeout)

    async def stop(self) -> None:
        if self.client is not None:
            await self.client.close()  # type: ignore[no-untyped-call]
            self.client = None

    async def __aenter__(self) -> SocketModeTestApp:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def _on_request(self, client: AsyncBaseSocketModeClient, req: SocketModeRequest) -> None:
        self.requests.append(req)

        async def ack(payload: dict[str, Any] | None = None) -> None:
            response = SocketModeResponse(envelope_id=req.envelope_id, payload=payload)
            await client.send_socket_mode_response(response)

        await self._handler(req.payload, ack)
