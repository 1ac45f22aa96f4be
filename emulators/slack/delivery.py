"""Routes interactions to the app: Socket Mode when an app is connected, else HTTP."""

from __future__ import annotations

import contextlib
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

    async def deliver(self, payload: dict[str, Any]) -> AckRecord:
        """Deliver and wait for the ack; raise DeliveryError when there never is one."""
        transport = self.active()
        if transport is None and self.mode != "http":
            # An app between two Socket Mode connections gets a moment to come back.
            with contextlib.suppress(TimeoutError):
                await self._state.recorder.wait_for(
                    lambda: self._socket.connection_count > 0, self._state.settings.ack_timeout
                )
            transport = self.active()
        if transport is None:
            raise DriverError("no app to deliver to: no Socket Mode connection and no HTTP app URL")
        if transport == "http":
            forge = self._forge_next.pop(0) if self._forge_next else None
            record = await self._http.deliver(payload, forge)
        else:
            record = await self._socket.deliver(payload)
        self._state.recorder.ack(record)
        timeout = self._state.settings.ack_timeout
        if record.acked and record.latency is not None and record.latency > timeout:
            self._state.recorder.violation(
                "late_ack",
                f"{record.payload_type} acknowledged after {record.latency:.2f} s "
                f"(Slack shows the user an error after {timeout:g} s)",
            )
        if not record.acked:
            status = f" (HTTP {record.http_status})" if record.http_status else ""
            raise DeliveryError(
                f"{record.payload_type} was not acknowledged after {record.attempts} "
                f"attempt(s){status}",
                record,
            )
        return record
