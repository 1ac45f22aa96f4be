"""Web API methods at `/api/<method>` and the response_urls at `/actions/<token>`.

Requests are read the way slack_sdk sends them: query parameters (GET, and POST with
`params=`), form bodies, or JSON bodies; JSON-valued fields (`view`, `blocks`) may come
as strings. Errors are HTTP 200 with `ok: false`; only rate limiting is HTTP 429.
"""

from __future__ import annotations

import copy
import hashlib
import json
import time
from collections.abc import Callable
from typing import Any

from aiohttp import web

from emulators.slack.blockkit import (
    fill_ids,
    validate_message_blocks,
    validate_view,
    view_too_large,
)
from emulators.slack.errors import ApiError
from emulators.slack.inspection import ApiCall, PostedMessage
from emulators.slack.state import EmulatorState
from emulators.slack.workspace import Channel

MAX_TEXT = 40_000
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})
# The bot scope a method needs (its page on docs.slack.dev), where the emulator checks it.
METHOD_SCOPES: dict[str, str] = {
    "usergroups.list": "usergroups:read",
    "usergroups.users.list": "usergroups:read",
}

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class WebApi:
    def __init__(self, state: EmulatorState, issue_socket_url: Callable[[], str]) -> None:
        self._state = state
        self._ws = state.workspace
        self._issue_socket_url = issue_socket_url
        self._handlers: dict[str, Handler] = {
            "api.test": self.api_test,
            "auth.test": self.auth_test,
            "apps.connections.open": self.apps_connections_open,
            "views.open": self.views_open,
            "views.update": self.views_update,
            "views.push": self.views_push,
            "views.publish": self.views_publish,
            "chat.postMessage": self.chat_post_message,
            "chat.update": self.chat_update,
            "chat.postEphemeral": self.chat_post_ephemeral,
            "users.info": self.users_info,
            "users.lookupByEmail": self.users_lookup_by_email,
            "conversations.open": self.conversations_open,
            "usergroups.list": self.usergroups_list,
            "usergroups.users.list": self.usergroups_users_list,
        }

    def routes(self) -> list[web.RouteDef]:
        return [
            web.route("*", "/api/{method}", self.handle),
            web.post("/actions/{token}", self.handle_response_url),
        ]

    # -- HTTP plumbing ----------------------------------------------------------

    async def handle(self, request: web.Request) -> web.Response:
        started = time.monotonic()
        method = request.match_info["method"]
        headers: dict[str, str] = {}
        params: dict[str, Any] = {}
        try:
            params = await _read_params(request)
            token = _bearer(request) or params.pop("token", None)
            status, body, headers = self._dispatch(method, params, token)
        except ApiError as exc:
            status, body = 200, exc.body()
        params.pop("token", None)
        self._state.recorder.api_call(
            ApiCall(
                method=method,
                params=params,
                ok=bool(body.get("ok")),
                error=body.get("error"),
                status=status,
                time=time.time(),
                duration=time.monotonic() - started,
            )
        )
        return web.json_response(body, status=status, headers=headers)

    def _dispatch(
        self, method: str, params: dict[str, Any], token: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        handler = self._handlers.get(method)
        if handler is None:
            return 200, {"ok": False, "error": "unknown_method", "req_method": method}, {}
        if not token:
            raise ApiError("not_authed")
        wanted = (
            self._state.settings.app_token
            if method in APP_TOKEN_METHODS
            else self._state.settings.bot_token
        )
        if token != wanted:
            raise ApiError("invalid_auth")
        self._check_scope(method)
        channel = params.get("channel")
        retry_after = self._state.rate_limiter.check(
            method, channel if isinstance(channel, str) else None
        )
        if retry_after is not None:
            return 429, {"ok": False, "error": "ratelimited"}, {"Retry-After": str(retry_after)}
        forced = self._state.rate_limiter.forced_error(method)
        if forced is not None:
            raise ApiError(forced)
        return 200, handler(params), {}

    # -- auth / socket mode -------------------------------------------------------

    def api_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "args": params}

    def auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        ws = self._ws
        return {
            "ok": True,
            "url": f"https://{ws.team_domain}.slack.com/",
            "team": ws.team_name,
            "user": ws.bot_name,
            "team_id": ws.team_id,
            "user_id": ws.bot_user_id,
            "bot_id": ws.bot_id,
            "is_enterprise_install": False,
        }

    def apps_connections_open(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"ok": True, "url": self._issue_socket_url()}

    # -- views --------------------------------------------------------------------

    def views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._view_param(params)
        if view.get("type") != "modal":
            raise ApiError("invalid_arguments", ["[ERROR] views.open only opens modals"])
        trigger = self._state.triggers.exchange(_trigger_param(params))
        return {"ok": True, "view": self._state.modals.open(trigger.user_id, view)}

    def views_push(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._view_param(params)
        trigger = self._state.triggers.exchange(_trigger_param(params))
        return {"ok": True, "view": self._state.modals.push(trigger.user_id, view)}

    def views_update(self, params: dict[str, Any]) -> dict[str, Any]:
        modals = self._state.modals
        current = modals.find(params.get("view_id"), params.get("external_id"))
        view = self._view_param(params)
        return {"ok": True, "view": modals.update(current, view, params.get("hash") or None)}

    def views_publish(self, params: dict[str, Any]) -> dict[str, Any]:
        view = self._view_param(params)
        user_id = params.get("user_id")
        if not user_id:
            raise ApiError("invalid_arguments", ["missing required field: user_id"])
        homes = self._state.homes
        return {"ok": True, "view": homes.publish(user_id, view, params.get("hash") or None)}

    def _view_param(self, params: dict[str, Any]) -> dict[str, Any]:
        view = _json_param(params, "view")
        if view is None:
            raise ApiError("invalid_arguments", ["missing required field: view"])
        if view_too_large(view):
            raise ApiError("view_too_large")
        errors = validate_view(view)
        if errors:
            raise ApiError("invalid_arguments", errors)
        assert isinstance(view, dict)  # validate_view rejects anything else
        return view

    # -- chat ---------------------------------------------------------------------

    def chat_post_message(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._postable_channel(params.get("channel"))
        text, blocks = _content(params)
        message = self._state.messages.add(
            PostedMessage(
                ts=self._state.messages.new_ts(),
                channel=channel.id,
                user=self._ws.bot_user_id,
                text=text,
                blocks=fill_ids(blocks, self._state.ids),
                thread_ts=_str_or_none(params.get("thread_ts")),
                bot_id=self._ws.bot_id,
                app_id=self._ws.app_id,
            )
        )
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "message": message.to_slack(self._ws.team_id),
        }

    def chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        # Unlike chat.postMessage, chat.update takes only a conversation id: a DM's D...
        # id (as postMessage answered it), never the user id or a channel name.
        channel = self._ws.channels.get(str(params.get("channel") or ""))
        if channel is None:
            raise ApiError("channel_not_found")
        ts = params.get("ts")
        message = self._state.messages.find(channel.id, ts) if isinstance(ts, str) else None
        if message is None or message.is_ephemeral:
            raise ApiError("message_not_found")
        if message.user != self._ws.bot_user_id:
            raise ApiError("cant_update_message")
        text = str(params["text"]) if "text" in params else message.text
        blocks = _json_param(params, "blocks") if "blocks" in params else message.blocks
        text, blocks = _content({"text": text, "blocks": blocks})
        self.apply_update(message, text, fill_ids(blocks, self._state.ids), "chat.update")
        return {
            "ok": True,
            "channel": channel.id,
            "ts": message.ts,
            "text": message.text,
            "message": message.to_slack(self._ws.team_id),
        }

    def apply_update(
        self, message: PostedMessage, text: str, blocks: list[dict[str, Any]], via: str
    ) -> None:
        message.text, message.blocks = text, blocks
        message.updates.append(
            {
                "edited_ts": self._state.messages.new_ts(),
                "text": text,
                "blocks": copy.deepcopy(blocks),
                "time": time.time(),
                "via": via,
            }
        )
        self._state.recorder.event(
            "message_updated", channel=message.channel, ts=message.ts, text=text, via=via
        )

    def chat_post_ephemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._postable_channel(params.get("channel"))
        user_id = params.get("user")
        if not isinstance(user_id, str) or not user_id:
            raise ApiError("invalid_arguments", ["missing required field: user"])
        if self._ws.user(user_id) is None:
            raise ApiError("user_not_found")
        if not channel.has_member(user_id):
            raise ApiError("user_not_in_channel")
        text, blocks = _content(params)
        message = self._state.messages.add(
            PostedMessage(
                ts=self._state.messages.new_ts(),
                channel=channel.id,
                user=self._ws.bot_user_id,
                text=text,
                blocks=fill_ids(blocks, self._state.ids),
                thread_ts=_str_or_none(params.get("thread_ts")),
                is_ephemeral=True,
                for_user=user_id,
                bot_id=self._ws.bot_id,
                app_id=self._ws.app_id,
                via="chat.postEphemeral",
            )
        )
        return {"ok": True, "message_ts": message.ts}

    def _channel(self, ref: Any) -> Channel:
        """A channel by id or name; a user id means that user's DM (as Slack allows)."""
        if not isinstance(ref, str) or not ref:
            raise ApiError("channel_not_found")
        channel = self._ws.channels.get(ref)
        if channel is not None:
            return channel
        user = self._ws.user(ref)
        if user is not None:
            return self._ws.open_dm(user.id)
        channel = self._ws.channel_by_name(ref)
        if channel is None:
            raise ApiError("channel_not_found")
        return channel

    def _postable_channel(self, ref: Any) -> Channel:
        channel = self._channel(ref)
        if channel.is_archived:
            raise ApiError("is_archived")
        # chat:write.public lets the bot post in public channels it has not joined.
        if channel.is_private and not channel.is_im and not channel.bot_is_member:
            raise ApiError("not_in_channel")
        return channel

    # -- users / conversations / usergroups -------------------------------------------

    def users_info(self, params: dict[str, Any]) -> dict[str, Any]:
        user_id = str(params.get("user", ""))
        user = self._ws.bot_user() if user_id == self._ws.bot_user_id else self._ws.user(user_id)
        if user is None:
            raise ApiError("user_not_found")
        return {"ok": True, "user": user.to_api(self._ws.team_id)}

    def users_lookup_by_email(self, params: dict[str, Any]) -> dict[str, Any]:
        user = self._ws.user_by_email(str(params.get("email", "")))
        # Deactivated accounts are not found by email, as on Slack.
        if user is None or user.deleted:
            raise ApiError("users_not_found")
        return {"ok": True, "user": user.to_api(self._ws.team_id)}

    def conversations_open(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_ref = params.get("channel")
        if channel_ref:
            channel = self._ws.channels.get(str(channel_ref))
            if channel is None:
                raise ApiError("channel_not_found")
            return {"ok": True, "channel": {"id": channel.id}, "no_op": True, "already_open": True}
        users = params.get("users")
        user_ids = (
            [u.strip() for u in users.split(",") if u.strip()] if isinstance(users, str) else []
        )
        if isinstance(users, list):
            user_ids = [str(u) for u in users]
        if not user_ids:
            raise ApiError("users_list_not_supplied")
        for user_id in user_ids:
            user = self._ws.user(user_id)
            if user is None:
                raise ApiError("user_not_found")
            if user.deleted:
                raise ApiError("user_disabled")
        if len(user_ids) == 1:
            already = self._ws.dm_channel_id(user_ids[0]) in self._ws.channels
            channel = self._ws.open_dm(user_ids[0])
        else:
            digest = hashlib.sha256(",".join(sorted(user_ids)).encode()).hexdigest()
            channel_id = "G" + digest[:10].upper()
            already = channel_id in self._ws.channels
            channel = self._ws.channels.get(channel_id) or self._ws.add_channel(
                Channel(
                    id=channel_id, name=f"mpdm-{len(user_ids)}", is_private=True, members=user_ids
                )
            )
        body: dict[str, Any] = {"ok": True, "channel": {"id": channel.id}}
        if already:
            body.update(no_op=True, already_open=True)
        return body

    def _check_scope(self, method: str) -> None:
        """Slack's `missing_scope` answer names the scope needed and those the token has."""
        granted = self._state.settings.bot_scopes
        needed = METHOD_SCOPES.get(method)
        if granted is None or needed is None or needed in granted:
            return
        raise ApiError("missing_scope", needed=needed, provided=",".join(sorted(granted)))

    def usergroups_list(self, params: dict[str, Any]) -> dict[str, Any]:
        """Every user group of the team, disabled ones only with `include_disabled`."""
        include_disabled = _truthy(params.get("include_disabled"))
        return {
            "ok": True,
            "usergroups": [
                g.to_api(
                    self._ws.team_id,
                    include_users=_truthy(params.get("include_users")),
                    include_count=_truthy(params.get("include_count")),
                )
                for g in self._ws.usergroups.values()
                if include_disabled or not g.disabled
            ],
        }

    def usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        """A group's member ids. A disabled group is found only with `include_disabled`
        ("Allow results that involve disabled User Groups"); otherwise, like an unknown or
        missing id, it is `no_such_subteam`, the one error Slack documents for it."""
        group = self._ws.usergroups.get(str(params.get("usergroup", "")))
        if group is None or (group.disabled and not _truthy(params.get("include_disabled"))):
            raise ApiError("no_such_subteam")
        return {"ok": True, "users": list(group.users)}

    # -- response_url ---------------------------------------------------------------------

    async def handle_response_url(self, request: web.Request) -> web.Response:
        """What Slack does with a POST to a response_url from a block_actions payload."""
        started = time.monotonic()
        params: dict[str, Any] = {}
        try:
            params = await _read_params(request)
            self._respond(request.match_info["token"], params)
        except ApiError as exc:
            status, body = (404 if exc.error in ("expired_url", "used_url") else 400), exc.body()
        else:
            status, body = 200, {"ok": True}
        self._state.recorder.api_call(
            ApiCall(
                method="response_url",
                params=params,
                ok=status == 200,
                error=body.get("error"),
                status=status,
                time=time.time(),
                duration=time.monotonic() - started,
            )
        )
        return web.json_response(body, status=status)

    def _respond(self, token: str, params: dict[str, Any]) -> None:
        target = self._state.messages.use_response_url(token)
        messages = self._state.messages
        original = (
            next(
                (
                    m
                    for m in messages.by_channel.get(target.channel, [])
                    if m.ts == target.message_ts and not m.deleted
                ),
                None,
            )
            if target.message_ts
            else None
        )
        if _truthy(params.get("delete_original")):
            if original is None:
                raise ApiError("message_not_found")
            original.deleted = True
            self._state.recorder.event(
                "message_deleted", channel=original.channel, ts=original.ts, via="response_url"
            )
            return
        text, blocks = _content(params)
        blocks = fill_ids(blocks, self._state.ids)
        if _truthy(params.get("replace_original")):
            if original is None:
                raise ApiError("message_not_found")
            self.apply_update(original, text, blocks, "response_url")
            return
        in_channel = params.get("response_type") == "in_channel"
        messages.add(
            PostedMessage(
                ts=messages.new_ts(),
                channel=target.channel,
                user=self._ws.bot_user_id,
                text=text,
                blocks=blocks,
                thread_ts=_str_or_none(params.get("thread_ts")),
                is_ephemeral=not in_channel,
                for_user=None if in_channel else target.user_id,
                bot_id=self._ws.bot_id,
                app_id=self._ws.app_id,
                via="response_url",
            )
        )


# -- request helpers ------------------------------------------------------------------


async def _read_params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if not request.can_read_body:
        return params
    if request.content_type == "application/json":
        try:
            body = await request.json()
        except json.JSONDecodeError as exc:
            raise ApiError("invalid_json") from exc
        if not isinstance(body, dict):
            raise ApiError("invalid_json")
        params.update(body)
    elif request.content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.post()
        params.update({k: v for k, v in form.items() if isinstance(v, str)})
    return params


def _bearer(request: web.Request) -> str | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return value.strip() or None


def _json_param(params: dict[str, Any], name: str) -> Any:
    value = params.get(name)
    if isinstance(value, str):
        try:
            return json.loads(value)
        except json.JSONDecodeError as exc:
            raise ApiError("invalid_arguments", [f"[ERROR] invalid JSON in `{name}`"]) from exc
    return value


def _trigger_param(params: dict[str, Any]) -> Any:
    return params.get("trigger_id") or params.get("interactivity_pointer")


def _content(params: dict[str, Any]) -> tuple[str, list[dict[str, Any]]]:
    """Validated (text, blocks) of a message; raises Slack's errors."""
    raw_text = params.get("text")
    text = "" if raw_text is None else str(raw_text)
    blocks = _json_param(params, "blocks")
    if blocks in (None, "", []):
        blocks = []
    if not text and not blocks and not params.get("attachments"):
        raise ApiError("no_text")
    if len(text) > MAX_TEXT:
        raise ApiError("msg_too_long")
    if blocks:
        errors = validate_message_blocks(blocks)
        if errors:
            raise ApiError("invalid_blocks", errors, errors=errors)
    return text, blocks


def _str_or_none(value: Any) -> str | None:
    return str(value) if value else None


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1"))
