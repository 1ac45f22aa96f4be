"""Handlers for the emulated `/api/v2` endpoints."""

from __future__ import annotations

import base64
import binascii
import math
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal, cast
from urllib.parse import unquote_plus

from aiohttp import web

from emulators.tailscale.attributes import (
    AttributeNotFoundError,
    AttributeStore,
    Change,
    DeleteAttribute,
    SetAttribute,
)
from emulators.tailscale.auth import AuthError, TokenIssuer
from emulators.tailscale.inventory import DeviceInventory, FieldSet
from emulators.tailscale.posture import system_attributes
from emulators.tailscale.responses import ApiError, json_response, read_json_object
from emulators.tailscale.rules import InvalidAttributeError, validate_comment
from emulators.tailscale.timefmt import format_rfc3339

SetAttributeResponse = Literal["empty", "attributes"]

READ_DEVICES = "devices:core:read"
READ_ATTRIBUTES = "devices:posture_attributes:read"
WRITE_ATTRIBUTES = "devices:posture_attributes"


class TailscaleApi:
    """The API proper; state lives in the objects handed in, shared with the emulator."""

    def __init__(
        self,
        *,
        tailnet: str,
        inventory: DeviceInventory,
        attributes: AttributeStore,
        issuer: TokenIssuer,
        now: Callable[[], datetime],
        invalid_attribute_status: int,
        set_attribute_response: SetAttributeResponse,
    ) -> None:
        self.tailnet = tailnet
        self._inventory = inventory
        self._attributes = attributes
        self._issuer = issuer
        self._now = now
        self._invalid_status = invalid_attribute_status
        self._set_response = set_attribute_response

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post("/api/v2/oauth/token", self.token),
            web.get("/api/v2/tailnet/{tailnet}/devices", self.list_devices),
            web.patch("/api/v2/tailnet/{tailnet}/device-attributes", self.patch_attributes),
            web.get("/api/v2/device/{device}", self.get_device),
            web.get("/api/v2/device/{device}/attributes", self.get_attributes),
            web.post("/api/v2/device/{device}/attributes/{key}", self.set_attribute),
            web.delete("/api/v2/device/{device}/attributes/{key}", self.delete_attribute),
        ]

    async def token(self, request: web.Request) -> web.Response:
        form = await request.post()
        client_id, client_secret = (
            _form_text(form.get("client_id")),
            _form_text(form.get("client_secret")),
        )
        basic = _basic_credentials(request.headers.get("Authorization"))
        if basic is not None and not (client_id and client_secret):
            client_id, client_secret = basic
        grant_type = _form_text(form.get("grant_type"))
        if grant_type and grant_type != "client_credentials":
            raise ApiError(400, f"unsupported grant_type {grant_type!r}")
        if not client_id or not client_secret:
            raise ApiError(401, "client_id and client_secret are required")
        try:
            token = self._issuer.issue(
                client_id,
                client_secret,
                _form_text(form.get("scope")),
                _form_text(form.get("tags")),
                self._now(),
            )
        except AuthError as exc:
            raise ApiError(exc.status, exc.message) from exc
        return json_response(
            {
                "access_token": token.value,
                "token_type": "Bearer",
                "expires_in": math.ceil(self._issuer.ttl),
                "scope": " ".join(token.scopes),
            }
        )

    async def list_devices(self, request: web.Request) -> web.Response:
        self._authorize(request, READ_DEVICES)
        self._check_tailnet(request)
        fields = _field_set(request)
        filters: dict[str, list[str]] = {}
        for name, value in request.query.items():
            if name != "fields":
                filters.setdefault(name, []).append(value)
        return json_response(self._inventory.list_body(fields, filters))

    async def get_device(self, request: web.Request) -> web.Response:
        self._authorize(request, READ_DEVICES)
        node_id = self._node_id(request)
        return json_response(self._inventory.encoded(node_id, _field_set(request)))

    async def get_attributes(self, request: web.Request) -> web.Response:
        self._authorize(request, READ_ATTRIBUTES)
        return json_response(self.attributes_body(self._node_id(request)))

    async def set_attribute(self, request: web.Request) -> web.Response:
        self._authorize(request, WRITE_ATTRIBUTES)
        node_id = self._node_id(request)
        body = await read_json_object(request)
        key = request.match_info["key"]
        self._apply(
            [SetAttribute(node_id, key, body.get("value"), body.get("expiry"), body.get("comment"))]
        )
        if self._set_response == "attributes":
            return json_response(self.attributes_body(node_id))
        return json_response({})

    async def delete_attribute(self, request: web.Request) -> web.Response:
        self._authorize(request, WRITE_ATTRIBUTES)
        node_id = self._node_id(request)
        self._apply([DeleteAttribute(node_id, request.match_info["key"])])
        return json_response({})

    async def patch_attributes(self, request: web.Request) -> web.Response:
        self._authorize(request, WRITE_ATTRIBUTES)
        self._check_tailnet(request)
        body = await read_json_object(request)
        try:
            comment = validate_comment(body.get("comment"))
        except InvalidAttributeError as exc:
            raise ApiError(self._invalid_status, str(exc)) from exc
        nodes = body.get("nodes")
        if not isinstance(nodes, dict):
            raise ApiError(400, "request body needs a 'nodes' object")
        changes: list[Change] = []
        for ident, patch in nodes.items():
            node_id = self._inventory.resolve(ident)
            if node_id is None:
                raise ApiError(404, f"device {ident!r} not found")
            if not isinstance(patch, dict):
                raise ApiError(400, f"nodes[{ident!r}] must be an object of attributes")
            changes.extend(self._patch_changes(node_id, patch, comment))
        self._apply(changes)
        return json_response({})

    def attributes_body(self, node_id: str) -> dict[str, Any]:
        """What GET .../attributes answers: system keys, custom keys, and their expiries."""
        device = self._inventory.get(node_id)
        assert device is not None  # callers resolved node_id
        custom = self._attributes.get(node_id, self._now())
        body: dict[str, Any] = {
            "attributes": system_attributes(device) | {k: a.value for k, a in custom.items()}
        }
        expiries = {k: format_rfc3339(a.expiry) for k, a in custom.items() if a.expiry}
        if expiries:
            body["expiries"] = expiries
        return body

    @staticmethod
    def _patch_changes(node_id: str, patch: dict[str, Any], comment: str | None) -> list[Change]:
        changes: list[Change] = []
        for key, spec in patch.items():
            if spec is None:  # JSON merge patch: null deletes, absent is no change
                changes.append(DeleteAttribute(node_id, key, missing_ok=True))
            elif isinstance(spec, dict):
                note = spec.get("comment", comment)
                changes.append(
                    SetAttribute(node_id, key, spec.get("value"), spec.get("expiry"), note)
                )
            else:
                raise ApiError(400, f"attribute {key!r} must be an object with 'value' or null")
        return changes

    def _apply(self, changes: list[Change]) -> None:
        try:
            self._attributes.apply(changes, self._now())
        except InvalidAttributeError as exc:
            raise ApiError(self._invalid_status, str(exc)) from exc
        except AttributeNotFoundError as exc:
            raise ApiError(404, str(exc)) from exc

    def _authorize(self, request: web.Request, scope: str) -> None:
        try:
            self._issuer.authorize(request.headers.get("Authorization"), scope, self._now())
        except AuthError as exc:
            raise ApiError(exc.status, exc.message) from exc

    def _check_tailnet(self, request: web.Request) -> None:
        if request.match_info["tailnet"] not in (self.tailnet, "-"):
            raise ApiError(404, "tailnet not found")

    def _node_id(self, request: web.Request) -> str:
        ident = request.match_info["device"]
        node_id = self._inventory.resolve(ident)
        if node_id is None:
            raise ApiError(404, f"device {ident!r} not found")
        return node_id


def _field_set(request: web.Request) -> FieldSet:
    fields = request.query.get("fields", "default")
    if fields not in ("default", "all"):
        raise ApiError(400, f"fields must be 'default' or 'all', not {fields!r}")
    return cast("FieldSet", fields)


def _form_text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _basic_credentials(header: str | None) -> tuple[str, str] | None:
    """HTTP Basic client credentials; RFC 6749 form-encodes id and secret before base64."""
    if not header or not header.startswith("Basic "):
        return None
    try:
        decoded = base64.b64decode(header.removeprefix("Basic ").strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    user, sep, password = decoded.partition(":")
    return (unquote_plus(user), unquote_plus(password)) if sep else None
