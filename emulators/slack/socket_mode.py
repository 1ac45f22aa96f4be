"""Socket Mode: tickets from apps.connections.open, the websocket, envelopes and acks."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import time
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from emulators.slack.inspection import AckRecord, UserErrorReason
from emulators.slack.state import EmulatorState

TICKET_TTL = 60.0
MAX_REMEMBERED_ENVELOPES = 10_000


@dataclass
class _Connection:
    id: int
    ws: web.WebSocketResponse
    connected_at: float
    draining: bool = False  # told to disconnect; used only when nothing else is open


# Slack lets the app answer these through the ack (view errors, suggestion options);
# for the rest (shortcuts, block_actions, view_closed) the envelope says it will not.
ACCEPTS_RESPONSE_PAYLOAD = frozenset({"view_submission", "block_suggestion"})


def accepts_response_payload(payload_type: object) -> bool:
    return payload_type in ACCEPTS_RESPONSE_PAYLOAD


@dataclass
class _Pending:
    """One interaction's envelope, waiting for its ack (Slack sends an interaction once)."""

    future: asyncio.Future[tuple[dict[str, Any] | None, float]]
    accepts_payload: bool
    timed_out: bool = False


class SocketModeHub:
    def __init__(self, state: EmulatorState) -> None:
        self._state = state
        self._tickets: dict[str, float] = {}
        self._connections: list[_Connection] = []
        self._pending: dict[str, _Pending] = {}
        # Envelope ids already answered or given up on (bounded: oldest forgotten first).
        self._finished: dict[str, None] = {}
        self._timed_out: dict[str, float] = {}
        self._acks_to_drop = 0
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
        late = self._timed_out.pop(envelope_id, None)
        if late is not None:
            # Too late: the person has already been shown an error.
            self._state.recorder.event("ack_ignored", envelope_id=envelope_id, reason="late")
            self._state.recorder.violation(
                "late_ack",
                f"envelope {envelope_id} acknowledged after the {late:g} s deadline "
                "(Slack had already shown the user an error)",
            )
            return
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
        if self._acks_to_drop:
            # Fault injection: the ack is lost on the way, as on a connection that dies
            # during a reconnect; Slack never sees it and shows the person an error.
            self._acks_to_drop -= 1
            self._state.recorder.event("ack_dropped", envelope_id=envelope_id, connection=conn.id)
            return
        if payload and not pending.accepts_payload:
            self._state.recorder.violation(
                "ack_payload_not_accepted",
                f"envelope {envelope_id} said accepts_response_payload: false; Slack ignores "
                f"the ack's payload {payload!r}"[:300],
            )
        pending.future.set_result((payload, time.monotonic()))

    def drop_next_acks(self, count: int) -> None:
        self._acks_to_drop += count

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

    async def deliver(
        self, payload: dict[str, Any], forge: str | None = None, *, kind: str = "interactive"
    ) -> AckRecord:
        """Send one `interactive` (or `events_api`) envelope and wait for its ack.

        Like Slack: an interaction is not retried; an ack that does not come within
        ack_timeout means the person saw an error. An Events API envelope carries
        `retry_attempt` 0 and an empty `retry_reason` (the emulator sends it once).
        """
        del forge  # forging is an HTTP-signature concept
        timeout = self._state.settings.ack_timeout
        payload_type = str(payload.get("type"))
        if kind == "events_api":
            payload_type = str((payload.get("event") or {}).get("type"))
        started = time.monotonic()
        conn = self._pick() or await self._wait_for_connection(timeout)
        if conn is None:
            return self._unacked("", payload_type, "no_connection")
        envelope_id = self._state.ids.envelope_id()
        accepts = kind == "interactive" and accepts_response_payload(payload_type)
        pending = _Pending(asyncio.get_running_loop().create_future(), accepts)
        self._pending[envelope_id] = pending
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "type": kind,
            "payload": payload,
            "accepts_response_payload": accepts,
        }
        if kind == "events_api":
            envelope.update(retry_attempt=0, retry_reason="")
        self._state.recorder.event(
            "delivery",
            transport="socket",
            envelope_id=envelope_id,
            payload_type=payload_type,
            connection=conn.id,
        )
        try:
            with contextlib.suppress(ConnectionError, RuntimeError):
                await conn.ws.send_json(envelope)
            remaining = max(0.0, timeout - (time.monotonic() - started))
            try:
                ack, acked_at = await asyncio.wait_for(asyncio.shield(pending.future), remaining)
            except TimeoutError:
                self._remember(self._timed_out, envelope_id, timeout)
                return self._unacked(envelope_id, payload_type, "timeout")
        finally:
            self._pending.pop(envelope_id, None)
            self._remember(self._finished, envelope_id, None)
            if not pending.future.done():
                pending.future.cancel()
        return AckRecord(
            envelope_id=envelope_id,
            payload_type=payload_type,
            ack=ack,
            acked=True,
            latency=acked_at - started,
            transport="socket",
            http_status=None,
            time=time.time(),
        )

    @staticmethod
    def _remember(seen: dict[str, Any], envelope_id: str, value: Any) -> None:
        seen[envelope_id] = value
        while len(seen) > MAX_REMEMBERED_ENVELOPES:
            del seen[next(iter(seen))]

    @staticmethod
    def _unacked(envelope_id: str, payload_type: str, reason: UserErrorReason) -> AckRecord:
        return AckRecord(
            envelope_id=envelope_id,
            payload_type=payload_type,
            ack=None,
            acked=False,
            latency=None,
            transport="socket",
            http_status=None,
            time=time.time(),
            user_error=reason,
        )

    async def _wait_for_connection(self, timeout: float) -> _Connection | None:
        """An app mid-reconnect gets a moment to come back before the attempt is lost."""
        try:
            return await self._state.recorder.wait_for(self._pick, timeout)
        except TimeoutError:
            return None
