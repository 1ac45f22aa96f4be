"""Socket Mode: tickets from apps.connections.open, the websocket, envelopes and acks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from emulators.slack.inspection import AckRecord
from emulators.slack.state import EmulatorState

TICKET_TTL = 60.0


@dataclass
class _Connection:
    id: int
    ws: web.WebSocketResponse
    connected_at: float
    draining: bool = False  # told to disconnect; used only when nothing else is open


@dataclass
class _Pending:
    """One interaction, possibly sent several times (one envelope id per attempt)."""

    future: asyncio.Future[tuple[str, dict[str, Any] | None, float]]
    envelope_ids: list[str] = field(default_factory=list)


class SocketModeHub:
    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self._tickets: dict[str, float] = {}
        self._connections: list[_Connection] = []
        self._pending: dict[str, _Pending] = {}
        self._finished: set[str] = set()
        self._next_id = 1
        self._rr = 0
        self._close_tasks: set[asyncio.Task[None]] = set()

    def routes(self) -> list[web.RouteDef]:
        return [web.get("/socket", self.handle_ws)]

    # -- connections --------------------------------------------------------------

    def issue_url(self) -> str:
        ticket = secrets.token_urlsafe(16)
        self._tickets[ticket] = time.monotonic()
        ws_base = self._state.base_url.replace("http://", "ws://", 1)
        return f"{ws_base}/socket?ticket={ticket}&app_id={self._state.workspace.app_id}"

    @property
    def connection_count(self) -> int:
        return sum(1 for c in self._connections if not c.ws.closed)

    async def handle_ws(self, request: web.Request) -> web.StreamResponse:
        issued = self._tickets.pop(request.query.get("ticket", ""), None)
        if issued is None or time.monotonic() - issued > TICKET_TTL:
            return web.json_response({"ok": False, "error": "invalid_ticket"}, status=401)
        # The SDK pings and expects its own data back in the pong: autoping does that.
        ws = web.WebSocketResponse(autoping=True)
        await ws.prepare(request)
        conn = _Connection(self._next_id, ws, time.monotonic())
        self._next_id += 1
        self._connections.append(conn)
        self._state.recorder.event("socket_connected", connection=conn.id)
        await ws.send_json(
            {
                "type": "hello",
                "num_connections": self.connection_count,
                "debug_info": {
                    "host": "slack-emulator",
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self._state.workspace.app_id},
            }
        )
        try:
            async for msg in ws:
                if msg.type == WSMsgType.TEXT:
                    self._on_text(conn, msg.data)
        finally:
            self._connections.remove(conn)
            self._state.recorder.event("socket_disconnected", connection=conn.id)
        return ws

    def _on_text(self, conn: _Connection, data: str) -> None:
        try:
            message = json.loads(data)
        except json.JSONDecodeError:
            self._state.recorder.violation("socket_bad_json", f"connection {conn.id}: not JSON")
            return
        envelope_id = message.get("envelope_id") if isinstance(message, dict) else None
        if not isinstance(envelope_id, str):
            self._state.recorder.violation(
                "socket_unexpected_message", f"connection {conn.id}: {data[:200]}"
            )
            return
        pending = self._pending.get(envelope_id)
        payload = message.get("payload")
        if payload is not None and not isinstance(payload, dict):
            self._state.recorder.violation(
                "ack_payload_not_object", f"envelope {envelope_id}: {payload!r}"[:300]
            )
            payload = None
        if pending is None or pending.future.done():
            known = envelope_id in self._finished or pending is not None
            self._state.recorder.event(
                "ack_ignored",
                envelope_id=envelope_id,
                reason="duplicate" if known else "unknown_envelope",
            )
            if not known:
                self._state.recorder.violation("ack_unknown_envelope", envelope_id)
            return
        pending.future.set_result((envelope_id, payload, time.monotonic()))

    def _pick(self) -> _Connection | None:
        live = [c for c in self._connections if not c.ws.closed]
        preferred = [c for c in live if not c.draining] or live
        if not preferred:
            return None
        self._rr += 1
        return preferred[self._rr % len(preferred)]

    async def disconnect(
        self, reason: str = "refresh_requested", close_after: float | None = None
    ) -> int:
        """Tell every open connection to reconnect; optionally close them after a while."""
        count = 0
        for conn in list(self._connections):
            if conn.ws.closed:
                continue
            conn.draining = True
            await conn.ws.send_json(
                {"type": "disconnect", "reason": reason, "debug_info": {"host": "slack-emulator"}}
            )
            count += 1
            if close_after is not None:
                task = asyncio.create_task(self._close_later(conn, close_after))
                self._close_tasks.add(task)
                task.add_done_callback(self._close_tasks.discard)
        self._state.recorder.event("socket_disconnect_sent", reason=reason, connections=count)
        return count

    @staticmethod
    async def _close_later(conn: _Connection, delay: float) -> None:
        await asyncio.sleep(delay)
        await conn.ws.close()

    async def close_all(self) -> None:
        for task in list(self._close_tasks):
            task.cancel()
        for pending in self._pending.values():
            if not pending.future.done():
                pending.future.cancel()
        for conn in list(self._connections):
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.close()

    # -- delivering -----------------------------------------------------------------

    async def deliver(self, payload: dict[str, Any], forge: str | None = None) -> AckRecord:
        """Send as an `interactive` envelope; re-send on a missed ack like Slack."""
        del forge  # forging is an HTTP-signature concept
        settings = self._state.settings
        recorder = self._state.recorder
        loop = asyncio.get_running_loop()
        pending = _Pending(loop.create_future())
        started = time.monotonic()
        attempts = 0
        max_attempts = len(settings.retry_delays) + 1
        try:
            for attempt in range(max_attempts):
                if attempt:
                    await asyncio.sleep(settings.retry_delays[attempt - 1])
                    if pending.future.done():
                        break
                conn = self._pick() or await self._wait_for_connection(settings.ack_timeout)
                if conn is None:
                    break
                envelope_id = self._state.ids.envelope_id()
                pending.envelope_ids.append(envelope_id)
                self._pending[envelope_id] = pending
                envelope = {
                    "envelope_id": envelope_id,
                    "type": "interactive",
                    "payload": payload,
                    "accepts_response_payload": True,
                    "retry_attempt": attempt,
                    "retry_reason": "timeout" if attempt else "",
                }
                attempts += 1
                recorder.event(
                    "delivery",
                    transport="socket",
                    envelope_id=envelope_id,
                    payload_type=payload.get("type"),
                    attempt=attempt,
                    connection=conn.id,
                )
                with contextlib.suppress(ConnectionError, RuntimeError):
                    await conn.ws.send_json(envelope)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(asyncio.shield(pending.future), settings.ack_timeout)
                    break
        finally:
            for envelope_id in pending.envelope_ids:
                self._pending.pop(envelope_id, None)
                self._finished.add(envelope_id)
        if not pending.future.done():
            pending.future.cancel()
            return AckRecord(
                envelope_id=pending.envelope_ids[-1] if pending.envelope_ids else "",
                payload_type=str(payload.get("type")),
                ack=None,
                acked=False,
                latency=None,
                transport="socket",
                attempts=attempts,
                http_status=None,
                time=time.time(),
            )
        envelope_id, ack, acked_at = pending.future.result()
        return AckRecord(
            envelope_id=envelope_id,
            payload_type=str(payload.get("type")),
            ack=ack,
            acked=True,
            latency=acked_at - started,
            transport="socket",
            attempts=attempts,
            http_status=None,
            time=time.time(),
        )

    async def _wait_for_connection(self, timeout: float) -> _Connection | None:
        """An app mid-reconnect gets a moment to come back before the attempt is lost."""
        try:
            return await self._state.recorder.wait_for(self._pick, timeout)
        except TimeoutError:
            return None
