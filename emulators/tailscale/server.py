"""`TailscaleEmulator`: the Tailscale API on a loopback port inside the caller's event loop."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qsl

from aiohttp import web

from emulators.tailscale import persistence
from emulators.tailscale.api import SetAttributeResponse, TailscaleApi
from emulators.tailscale.attributes import AttributeStore, SetAttribute
from emulators.tailscale.auth import OAuthClient, TokenIssuer
from emulators.tailscale.calls import CallLog, RecordedCall, redact, redact_body
from emulators.tailscale.control import ControlApi
from emulators.tailscale.faults import Fault, FaultQueue
from emulators.tailscale.inventory import DeviceInventory, clone_json
from emulators.tailscale.responses import ApiError, error_response
from emulators.tailscale.timefmt import to_datetime

logger = logging.getLogger(__name__)

CONTROL_PREFIX = "/_emulator/"
Clock = Callable[[], float | datetime]
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
_FAULT_ANSWERS = {
    "400": (400, "invalid request"),
    "429": (429, "rate limit exceeded"),
    "500": (500, "internal server error"),
    "504": (504, "gateway timeout"),
    "401": (401, "API token invalid"),
}


class TailscaleEmulator:
    """A fake tailnet: devices, OAuth clients, posture attributes, faults, and a call log.

    Points the real API leaves open are switchable: `invalid_attribute_status` (status for
    a broken attribute rule, default 400) and `set_attribute_response` ("attributes", the
    default, answers the device's attributes and their expiries as Tailscale's OpenAPI
    says; "empty" answers `{}` as the prose docs say).
    The devices passed in are copied; change them later with `update_device`.
    With `state_file`, custom attributes are restored at start and saved after every
    change through the API and at stop (see `persistence`).
    """

    def __init__(
        self,
        tailnet: str = "example.com",
        devices: Iterable[dict[str, Any]] = (),
        *,
        attribute_expiry_lag: float = 0.0,
        invalid_attribute_status: int = 400,
        token_ttl: float = 3600.0,
        set_attribute_response: SetAttributeResponse = "attributes",
        sweep_interval: float = 0.25,
        state_file: Path | None = None,
    ) -> None:
        self.tailnet = tailnet
        self.state_file = state_file
        self.restored_attributes = 0
        self._clock: Clock = time.time
        self._inventory = DeviceInventory(devices)
        self._attributes = AttributeStore(attribute_expiry_lag)
        self._issuer = TokenIssuer(token_ttl)
        self._faults = FaultQueue()
        self._calls = CallLog()
        self._sweep_interval = sweep_interval
        self._api = TailscaleApi(
            tailnet=tailnet,
            inventory=self._inventory,
            attributes=self._attributes,
            issuer=self._issuer,
            now=self.now,
            invalid_attribute_status=invalid_attribute_status,
            set_attribute_response=set_attribute_response,
        )
        self._runner: web.AppRunner | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._base_url: str | None = None

    # -- lifecycle -------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 picks a free port); returns e.g. `http://127.0.0.1:PORT`."""
        if self._runner is not None:
            raise RuntimeError("emulator already started")
        if self.state_file is not None:
            self.restored_attributes = persistence.restore(self, self.state_file)
        app = web.Application(middlewares=[self._middleware])
        app.add_routes(self._api.routes())
        app.add_routes(ControlApi(self).routes())
        # A short shutdown timeout so stop() does not wait out injected hangs.
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, host, port)
        await site.start()
        self._runner = runner
        bound_host, bound_port = runner.addresses[0][:2]
        self._base_url = f"http://{_url_host(bound_host)}:{bound_port}"
        self._inventory.list_body("default", {})  # pre-encode so the first list is fast
        self._sweeper = asyncio.create_task(self._sweep())
        return self._base_url

    async def stop(self) -> None:
        """Stop serving; safe to call twice."""
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
            self._save_state()

    async def __aenter__(self) -> Self:
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
        """`http://host:port` of the running server; the API is under `/api/v2`."""
        if self._base_url is None:
            raise RuntimeError("emulator not started")
        return self._base_url

    @property
    def api_url(self) -> str:
        return self.base_url + "/api/v2"

    # -- clock -----------------------------------------------------------------------------

    def set_clock(self, clock: Clock) -> None:
        """Replace real time; the callable returns epoch seconds or an aware datetime."""
        self._clock = clock

    def now(self) -> datetime:
        return to_datetime(self._clock())

    # -- credentials -----------------------------------------------------------------------

    def add_oauth_client(
        self,
        client_id: str,
        client_secret: str,
        scopes: Iterable[str],
        tags: Iterable[str] = (),
    ) -> None:
        """Register an OAuth client that may fetch tokens with these scopes and tags."""
        self._issuer.add_client(OAuthClient(client_id, client_secret, tuple(scopes), tuple(tags)))

    def revoke_tokens(self) -> None:
        """Invalidate every issued token, as if they had been revoked in the admin console."""
        self._issuer.revoke_all()

    # -- faults and calls ------------------------------------------------------------------

    def inject(self, fault: Fault) -> None:
        """Make the next `fault.count` matching API calls fail this way."""
        self._faults.add(fault)

    def clear_faults(self) -> None:
        self._faults.clear()

    def pending_faults(self) -> list[tuple[Fault, int | None]]:
        return self._faults.pending()

    @property
    def calls(self) -> list[RecordedCall]:
        """Every API call so far (control calls are not recorded)."""
        return self._calls.all()

    def calls_to(self, method: str | None, path_regex: str | None = None) -> list[RecordedCall]:
        """Calls with this method (None or "*" for any) whose path matches the regex."""
        return self._calls.matching(method, path_regex)

    def clear_calls(self) -> None:
        self._calls.clear()

    # -- devices and attributes ------------------------------------------------------------

    def device(self, node_or_legacy_id: str) -> dict[str, Any] | None:
        """A copy of the device with this nodeId or legacy id, or None."""
        device = self._inventory.get(node_or_legacy_id)
        return None if device is None else clone_json(device)

    @property
    def device_count(self) -> int:
        return len(self._inventory)

    def devices(self) -> list[dict[str, Any]]:
        return [clone_json(d) for d in self._inventory.devices()]

    def add_device(self, device: dict[str, Any]) -> None:
        """Add a device (a copy is stored); ValueError on a missing or duplicate id."""
        self._inventory.add(device)

    def remove_device(self, node_id: str) -> None:
        """Remove a device and its attributes; KeyError when unknown."""
        removed = self._inventory.remove(node_id)
        self._attributes.remove_node(removed["nodeId"])

    def update_device(self, node_id: str, **fields: Any) -> None:
        """Set top-level fields (None removes one); KeyError when unknown."""
        self._inventory.update(node_id, fields, self.now())

    def attributes(self, node_id: str) -> dict[str, dict[str, Any]]:
        """Custom attributes: `{key: {"value", "expiry" (datetime or None), "comment"}}`."""
        resolved = self._inventory.resolve(node_id) or node_id
        return {
            key: {"value": a.value, "expiry": a.expiry, "comment": a.comment}
            for key, a in self._attributes.get(resolved, self.now()).items()
        }

    def restore_attribute(
        self, node_id: str, key: str, value: object, expiry: str | None, comment: str | None
    ) -> None:
        """Set one attribute as the API would (an expiry in the past is refused)."""
        self._attributes.apply([SetAttribute(node_id, key, value, expiry, comment)], self.now())

    def pending_expiries(self) -> int:
        """Attributes with an expiry not yet removed; reading this does not purge."""
        return self._attributes.pending_expiries()

    def attributes_body(self, node_id: str) -> dict[str, Any] | None:
        """What `GET /device/{id}/attributes` would answer, or None for an unknown device."""
        resolved = self._inventory.resolve(node_id)
        return None if resolved is None else self._api.attributes_body(resolved)

    # -- internals -------------------------------------------------------------------------

    @web.middleware
    async def _middleware(self, request: web.Request, handler: _Handler) -> web.StreamResponse:
        if request.path.startswith(CONTROL_PREFIX):
            return await _answer(request, handler)
        arrived, started = self.now(), time.monotonic()
        raw = await request.read()  # cached by aiohttp, so handlers can read it again
        fault = self._faults.take(request.method, request.path)
        response = await self._answer_with_fault(request, handler, fault)
        self._record(request, raw, response=response, fault=fault, arrived=arrived, started=started)
        if request.method != "GET" and response.status < 300:
            self._save_state()
        return response

    def _save_state(self) -> None:
        # Saved before the client reads the answer, so an acknowledged change survives
        # a kill of the emulator.
        if self.state_file is not None:
            persistence.save(self, self.state_file)

    async def _answer_with_fault(
        self, request: web.Request, handler: _Handler, fault: Fault | None
    ) -> web.StreamResponse:
        if fault is None:
            return await _answer(request, handler)
        if fault.kind == "hang":
            # Sleep, then serve normally: the client's own timeout decides what it sees.
            await asyncio.sleep(fault.hang_seconds)
            return await _answer(request, handler)
        if fault.kind == "hang_after":
            # Serve first, answer late: a client killed meanwhile never learns of the change.
            response = await _answer(request, handler)
            await asyncio.sleep(fault.hang_seconds)
            return response
        if fault.kind == "401":
            self._issuer.revoke_all()
        status, message = _FAULT_ANSWERS[fault.kind]
        headers = {}
        if fault.kind == "429" and fault.retry_after is not None:
            headers["Retry-After"] = str(fault.retry_after)
        return error_response(status, message, headers)

    def _record(
        self,
        request: web.Request,
        raw_request: bytes,
        *,
        response: web.StreamResponse,
        fault: Fault | None,
        arrived: datetime,
        started: float,
    ) -> None:
        body = response.body if isinstance(response, web.Response) else b""
        raw = body if isinstance(body, bytes) else b""
        request_json, request_form = _request_payload(request.content_type, raw_request)
        self._calls.append(
            RecordedCall(
                method=request.method,
                path=request.path,
                query=dict(request.query),
                status=response.status,
                request_json=request_json,
                request_form=request_form,
                response_body=redact_body(raw),
                response_headers={
                    k: v for k, v in response.headers.items() if k.lower() != "set-cookie"
                },
                fault=None if fault is None else fault.kind,
                monotonic=started,
                wallclock=arrived,
                duration=time.monotonic() - started,
            )
        )

    async def _sweep(self) -> None:
        # Lazy purging already hides expired attributes; this keeps memory and
        # emu.attributes() tidy even when nobody reads.
        while True:
            await asyncio.sleep(self._sweep_interval)
            self._attributes.purge(self.now())


async def _answer(request: web.Request, handler: _Handler) -> web.StreamResponse:
    """Run the handler, turning every failure into Tailscale's JSON error shape."""
    try:
        return await handler(request)
    except ApiError as exc:
        return error_response(exc.status, exc.message, exc.headers)
    except web.HTTPException as exc:  # unknown route, wrong method
        return error_response(exc.status, exc.reason)
    except Exception:
        logger.exception("emulator failed on %s %s", request.method, request.path)
        return error_response(500, "emulator internal error")


def _request_payload(content_type: str, raw: bytes) -> tuple[Any, dict[str, str] | None]:
    """The request body as redacted JSON or form data (whichever it is)."""
    if not raw:
        return None, None
    if content_type == "application/x-www-form-urlencoded":
        form = dict(parse_qsl(raw.decode(errors="replace"), keep_blank_values=True))
        return None, redact(form)
    try:
        return redact(json.loads(raw)), None
    except ValueError:
        return None, None


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
