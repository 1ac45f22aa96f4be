"""The `/_emulator/` control API, so tests in other processes can steer the emulator."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web
from pydantic import ValidationError

from emulators.tailscale.faults import Fault
from emulators.tailscale.responses import ApiError, json_response, read_json_object
from emulators.tailscale.timefmt import format_rfc3339

if TYPE_CHECKING:
    from emulators.tailscale.server import TailscaleEmulator


class ControlApi:
    """Unauthenticated JSON endpoints mirroring the emulator's Python methods."""

    def __init__(self, emulator: TailscaleEmulator) -> None:
        self._emu = emulator

    def routes(self) -> list[web.RouteDef]:
        return [
            web.get("/_emulator/health", self.health),
            web.get("/_emulator/faults", self.list_faults),
            web.post("/_emulator/faults", self.inject_fault),
            web.delete("/_emulator/faults", self.clear_faults),
            web.get("/_emulator/calls", self.list_calls),
            web.get("/_emulator/tailnet", self.tailnet),
            web.delete("/_emulator/calls", self.clear_calls),
            web.post("/_emulator/devices", self.add_device),
            web.patch("/_emulator/devices/{device}", self.update_device),
            web.delete("/_emulator/devices/{device}", self.remove_device),
            web.get("/_emulator/devices/{device}/attributes", self.device_attributes),
            web.post("/_emulator/oauth-clients", self.add_oauth_client),
            web.post("/_emulator/revoke-tokens", self.revoke_tokens),
        ]

    async def health(self, _request: web.Request) -> web.Response:
        return json_response(
            {"status": "ok", "tailnet": self._emu.tailnet, "devices": self._emu.device_count}
        )

    async def list_faults(self, _request: web.Request) -> web.Response:
        pending = self._emu.pending_faults()
        return json_response(
            {"faults": [f.model_dump() | {"remaining": left} for f, left in pending]}
        )

    async def inject_fault(self, request: web.Request) -> web.Response:
        body = await read_json_object(request)
        try:
            fault = Fault.model_validate(body)
        except ValidationError as exc:
            raise ApiError(400, f"invalid fault: {exc.errors(include_url=False)}") from exc
        self._emu.inject(fault)
        return json_response({"fault": fault.model_dump()}, status=201)

    async def clear_faults(self, _request: web.Request) -> web.Response:
        self._emu.clear_faults()
        return json_response({})

    async def list_calls(self, request: web.Request) -> web.Response:
        calls = self._emu.calls_to(request.query.get("method"), request.query.get("path"))
        return json_response({"calls": [c.to_json() for c in calls]})

    async def clear_calls(self, _request: web.Request) -> web.Response:
        self._emu.clear_calls()
        return json_response({})

    async def add_device(self, request: web.Request) -> web.Response:
        device = await read_json_object(request)
        try:
            self._emu.add_device(device)
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc
        return json_response({"device": self._emu.device(device["nodeId"])}, status=201)

    async def update_device(self, request: web.Request) -> web.Response:
        fields = await read_json_object(request)
        ident = request.match_info["device"]
        try:
            self._emu.update_device(ident, **fields)
        except KeyError as exc:
            raise ApiError(404, f"device {ident!r} not found") from exc
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc
        return json_response({"device": self._emu.device(ident)})

    async def remove_device(self, request: web.Request) -> web.Response:
        ident = request.match_info["device"]
        try:
            self._emu.remove_device(ident)
        except KeyError as exc:
            raise ApiError(404, f"device {ident!r} not found") from exc
        return json_response({})

    async def device_attributes(self, request: web.Request) -> web.Response:
        ident = request.match_info["device"]
        if self._emu.device(ident) is None:
            raise ApiError(404, f"device {ident!r} not found")
        custom: dict[str, Any] = {
            key: attr | {"expiry": format_rfc3339(attr["expiry"]) if attr["expiry"] else None}
            for key, attr in self._emu.attributes(ident).items()
        }
        return json_response({"attributes": custom})

    async def tailnet(self, _request: web.Request) -> web.Response:
        """Every device with its custom attributes in one answer (the console's tailnet pane)."""
        devices = []
        for device in self._emu.devices():
            attributes = {
                key: attr | {"expiry": format_rfc3339(attr["expiry"]) if attr["expiry"] else None}
                for key, attr in self._emu.attributes(device["nodeId"]).items()
            }
            devices.append(
                {
                    key: device.get(key)
                    for key in ("nodeId", "name", "user", "tags", "addresses", "os")
                }
                | {"attributes": attributes}
            )
        return json_response({"devices": devices})

    async def add_oauth_client(self, request: web.Request) -> web.Response:
        body = await read_json_object(request)
        try:
            self._emu.add_oauth_client(
                client_id=str(body["client_id"]),
                client_secret=str(body["client_secret"]),
                scopes=[str(s) for s in body.get("scopes", [])],
                tags=[str(t) for t in body.get("tags", [])],
            )
        except KeyError as exc:
            raise ApiError(400, f"missing field {exc}") from exc
        except ValueError as exc:
            raise ApiError(400, str(exc)) from exc
        return json_response({}, status=201)

    async def revoke_tokens(self, _request: web.Request) -> web.Response:
        self._emu.revoke_tokens()
        return json_response({})
