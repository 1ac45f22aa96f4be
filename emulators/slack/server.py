"""SlackEmulator: the loopback HTTP + websocket server and its Python handle."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable, Mapping
from types import TracebackType
from typing import Any, TypeVar

from aiohttp import web

from emulators.slack.control_api import ControlApi
from emulators.slack.delivery import Deliverer, DeliveryMode
from emulators.slack.driver import Driver
from emulators.slack.http_delivery import HttpDelivery
from emulators.slack.inspection import (
    AckRecord,
    ApiCall,
    PostedMessage,
    UserError,
    Violation,
)
from emulators.slack.signing import RequestSigner
from emulators.slack.socket_mode import SocketModeHub
from emulators.slack.state import EmulatorState, Settings
from emulators.slack.web_api import WebApi
from emulators.slack.workspace import Workspace

T = TypeVar("T")

# Fake credentials that only this emulator accepts.
DEFAULT_BOT_TOKEN = "xoxb-emulator"  # noqa: S105
DEFAULT_APP_TOKEN = "xapp-emulator"  # noqa: S105
DEFAULT_SIGNING_SECRET = "emulator-signing-secret"  # noqa: S105


class SlackEmulator:
    """A fake Slack for one app: Web API, Socket Mode, HTTP delivery, simulated people.

    Runs in the caller's event loop: `base_url = await emu.start()` ... `await emu.stop()`,
    or `async with SlackEmulator(...) as emu:`.
    """

    def __init__(
        self,
        workspace: Workspace | None = None,
        *,
        bot_token: str = DEFAULT_BOT_TOKEN,
        app_token: str = DEFAULT_APP_TOKEN,
        signing_secret: str = DEFAULT_SIGNING_SECRET,
        rate_limits: Mapping[str, int | None] | None = None,
        trigger_ttl: float = 3.0,
        ack_timeout: float = 3.0,
        http_app_url: str | None = None,
        seed: int | None = 0,
        bot_scopes: Iterable[str] | None = None,
    ) -> None:
        self.workspace = workspace if workspace is not None else Workspace.seeded()
        settings = Settings(
            bot_token=bot_token,
            app_token=app_token,
            signing_secret=signing_secret,
            trigger_ttl=trigger_ttl,
            ack_timeout=ack_timeout,
            bot_scopes=frozenset(bot_scopes) if bot_scopes is not None else None,
        )
        self._state = EmulatorState(self.workspace, settings, rate_limits, seed)
        self.signing = RequestSigner(signing_secret)
        self._socket = SocketModeHub(self._state)
        self._http = HttpDelivery(self._state, self.signing)
        self._http.url = http_app_url
        self._deliverer = Deliverer(self._state, self._socket, self._http)
        self._web_api = WebApi(self._state, self._socket.issue_url)
        self.driver = Driver(self._state, self._deliverer, self._response_url)
        self._control = ControlApi(self)
        self._runner: web.AppRunner | None = None

    # -- lifecycle ----------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen on host:port (0 = any free port); return the base URL."""
        if self._runner is not None:
            raise RuntimeError("already started")
        app = web.Application()
        app.add_routes(self._web_api.routes())
        app.add_routes(self._socket.routes())
        app.add_routes(self._control.routes())
        # A handler still running at stop (a client gone mid-call) is not waited for long.
        runner = web.AppRunner(app, handle_signals=False, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self._state.base_url = f"http://{bound_host}:{bound_port}"
        await self._http.start()
        self._state.recorder.event("emulator_started", url=self._state.base_url)
        return self._state.base_url

    async def stop(self) -> None:
        if self._runner is None:
            return
        await self._socket.close_all()
        await self._http.close()
        await self._runner.cleanup()
        self._runner = None
        self._state.base_url = ""
        self._state.recorder.event("emulator_stopped")

    async def __aenter__(self) -> SlackEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def base_url(self) -> str:
        if not self._state.base_url:
            raise RuntimeError("the emulator is not started")
        return self._state.base_url

    @property
    def api_url(self) -> str:
        """Pass to `AsyncWebClient(base_url=emu.api_url)`."""
        return self.base_url + "/api/"

    @property
    def bot_token(self) -> str:
        return self._state.settings.bot_token

    @property
    def app_token(self) -> str:
        return self._state.settings.app_token

    def _response_url(self, token: str) -> str:
        return f"{self.base_url}/actions/{token}"

    # -- app delivery ---------------------------------------------------------------------

    def set_http_app_url(self, url: str | None) -> None:
        """Where interactions go in HTTP mode (used when no Socket Mode app is connected)."""
        self._http.url = url

    @property
    def delivery(self) -> DeliveryMode | None:
        """Forced transport, or None for auto (Socket Mode if connected, else HTTP)."""
        return self._deliverer.mode

    @delivery.setter
    def delivery(self, mode: DeliveryMode | None) -> None:
        if mode not in (None, "socket", "http"):
            raise ValueError("delivery must be 'socket', 'http' or None")
        self._deliverer.mode = mode

    @property
    def active_transport(self) -> DeliveryMode | None:
        """The transport an interaction would take right now."""
        return self._deliverer.active()

    @property
    def socket_connections(self) -> int:
        return self._socket.connection_count

    async def socket_disconnect(
        self, reason: str = "refresh_requested", close_after: float | None = None
    ) -> int:
        """Send `{"type": "disconnect"}` to connected apps; return how many got it."""
        return await self._socket.disconnect(reason, close_after)

    # -- fault injection ------------------------------------------------------------------

    def fail_next(self, method: str, error: str = "channel_not_found", count: int = 1) -> None:
        self._state.rate_limiter.force_error(method, error, count)

    def drop_next_socket_ack(self, count: int = 1) -> None:
        """Lose the app's next Socket Mode ack(s) on the way, as a connection dying in a
        reconnect would: the person sees an error and Slack does not re-send."""
        self._socket.drop_next_acks(count)

    def rate_limit_next(self, method: str, count: int = 1, retry_after: int = 1) -> None:
        self._state.rate_limiter.force_rate_limit(method, count, retry_after)

    # -- people and messages that do not come from the app ------------------------------------

    def post_as_user(self, user_id: str, channel_id: str, text: str) -> PostedMessage:
        """A message a person wrote (the app cannot chat.update it)."""
        messages = self._state.messages
        return messages.add(
            PostedMessage(
                ts=messages.new_ts(),
                channel=channel_id,
                user=user_id,
                text=text,
                blocks=[],
                via="user",
            )
        )

    # -- inspection ----------------------------------------------------------------------------

    def messages(self, channel_id: str, *, include_ephemeral: bool = True) -> list[PostedMessage]:
        """Messages in a channel in posting order (deleted ones left out); a user id
        means that user's DM."""
        if channel_id not in self.workspace.channels and self.workspace.user(channel_id):
            channel_id = self.dm_channel(channel_id)
        return [
            m
            for m in self._state.messages.by_channel.get(channel_id, [])
            if not m.deleted and (include_ephemeral or not m.is_ephemeral)
        ]

    def message(self, channel_id: str, ts: str) -> PostedMessage | None:
        return self._state.messages.find(channel_id, ts)

    def dm_channel(self, user_id: str) -> str:
        return self.workspace.dm_channel_id(user_id)

    def dms(self, user_id: str) -> list[PostedMessage]:
        return self.messages(self.dm_channel(user_id))

    def ephemerals(self, user_id: str) -> list[PostedMessage]:
        return [
            m
            for m in self._state.messages.all()
            if m.is_ephemeral and m.for_user == user_id and not m.deleted
        ]

    def home(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab view published for this user (a copy), or None."""
        return self._state.homes.current(user_id)

    def homes_published(self, user_id: str) -> list[dict[str, Any]]:
        """Every Home view published for this user, oldest first (the last 50)."""
        return list(self._state.homes.history.get(user_id, []))

    def set_home_tab_enabled(self, enabled: bool) -> None:
        """Switch the app's Home tab (App Home settings); off, views.publish is not_enabled."""
        self._state.homes.enabled = enabled

    def views(self, user_id: str) -> list[dict[str, Any]]:
        """Every view opened, pushed or updated for the user, oldest first."""
        return copy.deepcopy(self._state.modals.history.get(user_id, []))

    @property
    def api_calls(self) -> list[ApiCall]:
        return list(self._state.recorder.api_calls)

    @property
    def acks(self) -> list[AckRecord]:
        return list(self._state.recorder.acks)

    @property
    def user_errors(self) -> list[UserError]:
        """Errors Slack showed people whose interaction the app did not acknowledge in
        time (Slack does not re-send it: the click or submission is lost)."""
        return list(self._state.recorder.user_errors)

    @property
    def violations(self) -> list[Violation]:
        """What the app did that Slack would reject (late acks, bad answers...)."""
        return list(self._state.recorder.violations)

    def timeline(self) -> list[dict[str, Any]]:
        return copy.deepcopy(self._state.recorder.timeline)

    def calls(self, method: str) -> list[ApiCall]:
        return [c for c in self._state.recorder.api_calls if c.method == method]

    async def wait_until(self, predicate: Callable[[], T | None], timeout: float = 2.0) -> T:
        """Wait until `predicate()` is truthy (re-checked whenever anything is recorded)."""
        return await self._state.recorder.wait_for(predicate, timeout)

    async def wait_for_messages(
        self, channel_id: str, count: int = 1, timeout: float = 2.0
    ) -> list[PostedMessage]:
        """Wait until the channel holds at least `count` messages; return them all."""

        def enough() -> list[PostedMessage] | None:
            found = self.messages(channel_id)
            return found if len(found) >= count else None

        return await self._state.recorder.wait_for(enough, timeout)

    async def wait_for_call(
        self, method: str, count: int = 1, timeout: float = 2.0
    ) -> list[ApiCall]:
        """Wait until `method` has been called `count` times; return those calls."""

        def enough() -> list[ApiCall] | None:
            found = self.calls(method)
            return found if len(found) >= count else None

        return await self._state.recorder.wait_for(enough, timeout)
