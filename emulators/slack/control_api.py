"""JSON control API under /_emulator/ for processes that do not hold the Python object.

Driver endpoints answer 200 with the app's ack as JSON (`null` for an empty ack), 400
`{"error"}` when the person cannot do that, 502 when the app did not ack, and 422
when the app's answer was invalid.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from aiohttp import web

from emulators.slack.errors import AppResponseError, DeliveryError, DriverError

if TYPE_CHECKING:
    from emulators.slack.server import SlackEmulator

PREFIX = "/_emulator"


class ControlApi:
    def __init__(self, emulator: SlackEmulator) -> None:
        self._emu = emulator

    def routes(self) -> list[web.RouteDef]:
        return [
            web.post(PREFIX + "/driver/{action}", self.driver),
            web.get(PREFIX + "/messages", self.messages),
            web.get(PREFIX + "/dms/{user}", self.dms),
            web.get(PREFIX + "/ephemerals/{user}", self.ephemerals),
            web.get(PREFIX + "/views/{user}", self.views),
            web.get(PREFIX + "/current-view/{user}", self.current_view),
            web.get(PREFIX + "/home/{user}", self.home),
            web.get(PREFIX + "/calls", self.calls),
            web.get(PREFIX + "/acks", self.acks),
            web.get(PREFIX + "/violations", self.violations),
            web.get(PREFIX + "/user-errors", self.user_errors),
            web.get(PREFIX + "/timeline", self.timeline),
            web.get(PREFIX + "/workspace", self.workspace),
            web.post(PREFIX + "/fail-next", self.fail_next),
            web.post(PREFIX + "/rate-limit-next", self.rate_limit_next),
            web.post(PREFIX + "/socket-disconnect", self.socket_disconnect),
            web.post(PREFIX + "/http-app-url", self.http_app_url),
            web.post(PREFIX + "/forge-next-http", self.forge_next_http),
        ]

    async def driver(self, request: web.Request) -> web.Response:
        args = await _json_body(request)
        d = self._emu.driver
        actions: dict[str, Callable[[], Awaitable[Any]]] = {
            "shortcut": lambda: d.press_shortcut(args["user_id"], args["callback_id"]),
            "select": lambda: d.select(args["user_id"], args["action_id"], args.get("value")),
            "type": lambda: d.type_in_external_select(
                args["user_id"], args["action_id"], args.get("query", "")
            ),
            "submit": lambda: d.submit_view(args["user_id"], args.get("values")),
            "button": lambda: d.press_button(
                args["user_id"],
                args["channel_id"],
                args["ts"],
                args["action_id"],
                args.get("value"),
            ),
            "view-button": lambda: d.press_view_button(args["user_id"], args["action_id"]),
            "close": lambda: d.close_view(args["user_id"]),
            "open-home": lambda: d.open_home(args["user_id"], args.get("tab", "home")),
            "home-button": lambda: d.press_home_button(
                args["user_id"], args["action_id"], args.get("block_id")
            ),
        }
        action = actions.get(request.match_info["action"])
        if action is None:
            return web.json_response(
                {"error": f"unknown action; one of {sorted(actions)}"}, status=404
            )
        try:
            return web.json_response(await action())
        except KeyError as exc:
            return web.json_response({"error": f"missing argument {exc}"}, status=400)
        except DriverError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        except DeliveryError as exc:
            return web.json_response({"error": str(exc), "ack": exc.record.as_dict()}, status=502)
        except AppResponseError as exc:
            return web.json_response(
                {"error": str(exc), "violations": [v.as_dict() for v in exc.violations]},
                status=422,
            )

    async def messages(self, request: web.Request) -> web.Response:
        channel = request.query.get("channel", "")
        return web.json_response([m.as_dict() for m in self._emu.messages(channel)])

    async def dms(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        return web.json_response([m.as_dict() for m in self._emu.dms(user)])

    async def ephemerals(self, request: web.Request) -> web.Response:
        user = request.match_info["user"]
        return web.json_response([m.as_dict() for m in self._emu.ephemerals(user)])

    async def views(self, request: web.Request) -> web.Response:
        return web.json_response(self._emu.views(request.match_info["user"]))

    async def current_view(self, request: web.Request) -> web.Response:
        return web.json_response(self._emu.driver.current_view(request.match_info["user"]))

    async def home(self, request: web.Request) -> web.Response:
        return web.json_response(self._emu.driver.home_view(request.match_info["user"]))

    async def calls(self, request: web.Request) -> web.Response:
        return web.json_response([c.as_dict() for c in self._emu.api_calls])

    async def acks(self, request: web.Request) -> web.Response:
        return web.json_response([a.as_dict() for a in self._emu.acks])

    async def user_errors(self, request: web.Request) -> web.Response:
        return web.json_response([e.as_dict() for e in self._emu.user_errors])

    async def violations(self, request: web.Request) -> web.Response:
        return web.json_response([v.as_dict() for v in self._emu.violations])

    async def timeline(self, request: web.Request) -> web.Response:
        return web.json_response(self._emu.timeline())

    async def workspace(self, request: web.Request) -> web.Response:
        ws = self._emu.workspace
        return web.json_response(
            {
                "team_id": ws.team_id,
                "bot_user_id": ws.bot_user_id,
                "app_id": ws.app_id,
                "users": [u.to_api(ws.team_id) for u in ws.users.values()],
                "channels": [
                    {"id": c.id, "name": c.name, "is_private": c.is_private, "is_im": c.is_im}
                    for c in ws.channels.values()
                ],
                "usergroups": [
                    {"id": g.id, "handle": g.handle, "users": g.users, "disabled": g.disabled}
                    for g in ws.usergroups.values()
                ],
            }
        )

    async def fail_next(self, request: web.Request) -> web.Response:
        args = await _json_body(request)
        self._emu.fail_next(
            args["method"], args.get("error", "channel_not_found"), int(args.get("count", 1))
        )
        return web.json_response({"ok": True})

    async def rate_limit_next(self, request: web.Request) -> web.Response:
        args = await _json_body(request)
        self._emu.rate_limit_next(
            args["method"], int(args.get("count", 1)), int(args.get("retry_after", 1))
        )
        return web.json_response({"ok": True})

    async def socket_disconnect(self, request: web.Request) -> web.Response:
        args = await _json_body(request)
        count = await self._emu.socket_disconnect(args.get("reason", "refresh_requested"))
        return web.json_response({"ok": True, "connections": count})

    async def http_app_url(self, request: web.Request) -> web.Response:
        args = await _json_body(request)
        self._emu.set_http_app_url(args.get("url"))
        return web.json_response({"ok": True})

    async def forge_next_http(self, request: web.Request) -> web.Response:
        args = await _json_body(request)
        try:
            self._emu.driver.forge_next_http(args.get("kind", "bad_signature"))
        except ValueError as exc:
            return web.json_response({"error": str(exc)}, status=400)
        return web.json_response({"ok": True})


async def _json_body(request: web.Request) -> dict[str, Any]:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except json.JSONDecodeError as exc:
        raise web.HTTPBadRequest(text='{"error": "body must be JSON"}') from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text='{"error": "body must be a JSON object"}')
    return body
