"""Routes interactions to the app: Socket Mode when an app is connected, else HTTP."""

from __future__ import annotations

from typing import Any, Literal

from emulators.slack.errors import DeliveryError, DriverError
from emulators.slack.http_delivery import HttpDelivery
from emulators.slack.inspection import AckRecord
from emulators.slack.socket_mode import SocketModeHub
from emulators.slack.state import EmulatorState

DeliveryMode = Literal["socket", "http"]
FORGE_KINDS = ("bad_signature", "stale_timestamp")


class Deliverer:
    def __init__(self, state: EmulatorState, socket: SocketModeHub, http: HttpDelivery) -> None:
        self._state = state
        self._socket = socket
        self._http = http
        self.mode: DeliveryMode | None = None  # None: auto
        self._forge_next: list[str] = []

    def active(self) -> DeliveryMode | None:
        """The transport an interaction would take right now."""
        socket_up = self._socket.connection_count > 0
        if self.mode == "socket":
            return "socket" if socket_up else None
        if self.mode == "http":
            return "http" if self._http.url else None
        if socket_up:
            return "socket"
        return "http" if self._http.url else None

    def forge_next_http(self, kind: str) -> None:
        if kind not in FORGE_KINDS:
            raise ValueError(f"kind must be one of {FORGE_KINDS}")
        self._forge_next.append(kind)

    async def deliver(self, payload: dict[str, Any], *, kind: str = "interactive") -> AckRecord:
        """Deliver once and wait for the ack; raise DeliveryError when there is none in
        time (the person was shown an error, as on Slack, which never re-sends it).
        `kind="events_api"`: an Events API callback (Socket Mode `events_api`, HTTP JSON)."""
        transport = self.active()
        if transport is None and self.mode == "http":
            raise DriverError("no HTTP app URL configured (set_http_app_url)")
        if transport == "http":
            forge = self._forge_next.pop(0) if self._forge_next else None
            record = await self._http.deliver(payload, forge, kind=kind)
        else:
            # With no connection open (an app between two connections), the hub waits
            # what is left of the ack deadline for one before the interaction is lost.
            record = await self._socket.deliver(payload, kind=kind)
        self._state.recorder.ack(record)
        if not record.acked and record.forged is None:
            user = payload.get("user") or (payload.get("event") or {}).get("user") or {}
            user_id = str(user.get("id", "") if isinstance(user, dict) else user)
            shown = self._state.recorder.user_error(user_id, record)
            status = f" (HTTP {record.http_status})" if record.http_status else ""
            raise DeliveryError(
                f"{record.payload_type} was not acknowledged ({record.user_error}{status}); "
                f"Slack showed {user_id or 'the user'}: {shown.text!r}",
                record,
            )
        if not record.acked:
            raise DeliveryError(
                f"forged {record.payload_type} refused (HTTP {record.http_status})", record
            )
        return record
