"""HTTP mode: Slack POSTs interactions to /slack/events, signed with the signing secret.

Only translates: verify the v0 signature (5-minute window) or answer 401 and do
nothing; hand the payload to the dispatcher; its ack becomes the HTTP response.
The dispatcher's work after the ack continues in a background task.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any
from urllib.parse import parse_qs

import structlog
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

from services.intake.domain.payload_bounds import MAX_BODY_BYTES, json_depth_within
from services.intake.handlers.dispatcher import Dispatcher
from services.intake.ports import AckBody

log = structlog.get_logger("accessbot.intake.http")

EVENTS_PATH = "/slack/events"
ACK_DEADLINE_SECONDS = 2.9  # Slack gives up at 3 s
DRAIN_SECONDS = 5.0


def _verified(verifier: SignatureVerifier, body: bytes, headers: Any) -> bool:
    timestamp = headers.get("X-Slack-Request-Timestamp")
    signature = headers.get("X-Slack-Signature")
    if not timestamp or not signature:
        return False
    try:
        return verifier.is_valid(body=body, timestamp=timestamp, signature=signature)
    except ValueError:  # a timestamp that is not a number
        return False


def _retry_attempt(headers: Any) -> int | None:
    raw = headers.get("X-Slack-Retry-Num")
    return int(raw) if isinstance(raw, str) and raw.isdigit() else None


def _payload(request: web.Request, body: bytes) -> dict[str, Any] | None:
    """The interaction payload (form-encoded `payload=<json>`), or a JSON body; None when
    it is not a JSON object or nests too deep to parse safely."""
    text = body.decode("utf-8", errors="replace")
    if request.content_type != "application/json":
        fields = parse_qs(text, max_num_fields=10)
        if "payload" not in fields:
            return None
        text = fields["payload"][0]
    if not json_depth_within(text):
        return None
    data = json.loads(text)
    return data if isinstance(data, dict) else None


def _invalid_payload(reason: str) -> web.Response:
    log.warning("http.rejected", reason=reason)
    return web.json_response({"ok": False, "error": "invalid_payload"}, status=400)


class HttpTransport:
    """An aiohttp server with the one Slack endpoint."""

    def __init__(
        self, dispatcher: Dispatcher, *, signing_secret: str, host: str, port: int
    ) -> None:
        self._dispatcher = dispatcher
        self._verifier = SignatureVerifier(signing_secret)
        self._host = host
        self._port = port
        self._runner: web.AppRunner | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self.bound_port: int | None = None

    @property
    def url(self) -> str:
        """The Request URL to configure in Slack (behind a TLS proxy in production)."""
        return f"http://{self._host}:{self.bound_port or self._port}{EVENTS_PATH}"

    async def start(self) -> None:
        """Listen (port 0 picks a free one; see `bound_port`)."""
        app = web.Application(client_max_size=MAX_BODY_BYTES)
        app.router.add_post(EVENTS_PATH, self._events)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        await site.start()
        self.bound_port = int(self._runner.addresses[0][1])
        log.info("http.listening", url=self.url)

    async def listening(self) -> bool:
        """Ready check."""
        return self._runner is not None

    async def stop(self) -> None:
        """Stop accepting, let in-flight work finish briefly."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._tasks:
            _, late = await asyncio.wait(self._tasks, timeout=DRAIN_SECONDS)
            for task in late:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    async def _events(self, request: web.Request) -> web.StreamResponse:
        try:
            body = await request.read()
        except web.HTTPRequestEntityTooLarge:
            # Refused before it is read whole: no Slack payload comes near the limit.
            return _invalid_payload(f"body over {MAX_BODY_BYTES} bytes")
        if not _verified(self._verifier, body, request.headers):
            log.warning("http.rejected", reason="bad or stale signature")
            return web.json_response({"ok": False, "error": "invalid_signature"}, status=401)
        try:
            payload = _payload(request, body)
        except ValueError:  # not JSON (JSONDecodeError), or too many form fields
            payload = None
        if payload is None:
            return _invalid_payload("not a JSON object, or nested too deep")
        if payload.get("type") == "url_verification":  # Events API handshake
            return web.json_response({"challenge": payload.get("challenge", "")})
        return await self._dispatch(payload, _retry_attempt(request.headers))

    async def _dispatch(self, payload: dict[str, Any], retry: int | None) -> web.StreamResponse:
        acked: asyncio.Future[AckBody] = asyncio.get_running_loop().create_future()

        async def ack(body: AckBody) -> None:
            if not acked.done():
                acked.set_result(body)

        task = asyncio.create_task(self._dispatcher.deliver(payload, ack, retry_attempt=retry))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        waiting: set[asyncio.Future[Any]] = {acked, task}
        await asyncio.wait(waiting, timeout=ACK_DEADLINE_SECONDS, return_when="FIRST_COMPLETED")
        body = acked.result() if acked.done() else None
        if body is None:
            return web.Response(status=200)
        return web.json_response(body)
