"""The console's web server: pages and JSON for the browser, clicks forwarded to the
Slack emulator's driver, the tailnet pushed as server-sent events."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from emulators.console.deadletters import dead_letters
from emulators.console.demo import DemoError, play
from emulators.console.events import EventFeed, NatsLogin
from emulators.console.guard import LOOPBACK_HOSTS, same_machine_only
from emulators.console.page import page
from emulators.console.people import Person, people
from emulators.console.render import render_messages, render_people, render_tailnet
from emulators.slack.blockkit_html import Directory, render_options, render_view
from shared.profiles import ProfilesConfig

STATIC = Path(__file__).with_name("static")
STATIC_TYPES = {".js": "text/javascript", ".css": "text/css"}
DRIVER_ACTIONS = frozenset(
    {
        "shortcut",
        "select",
        "type",
        "submit",
        "button",
        "view-button",
        "close",
        "open-home",  # the person opens the app's Home tab: Slack sends app_home_opened
        "home-button",  # a button in the Home tab
    }
)
WORKSPACE_TTL = 5.0
TAILNET_POLL_SECONDS = 0.4
SSE_HEARTBEAT_SECONDS = 15.0
MAX_BODY = 64 * 1024
MAX_DEMO_STEPS = 20
# Fault switches: what a person can make the next call do.
TAILSCALE_FAULTS = ("429", "500", "400")
SLACK_RATE_LIMITED_METHOD = "chat.postMessage"
ATTRIBUTE_CALLS = r"/attributes"  # not the inventory sync nor the token endpoint


@dataclass
class Upstreams:
    """Where the emulators answer."""

    slack_url: str
    tailscale_url: str | None


@dataclass
class Console:
    """State the console keeps: nothing the emulators do not also hold, except the
    validation errors of the last submission (Slack shows them; the view does not store them)."""

    upstreams: Upstreams
    profiles: ProfilesConfig
    feed: EventFeed
    session: aiohttp.ClientSession | None = None
    admin: NatsLogin | None = None  # reads the dead-letter list only
    demo: asyncio.Task[None] | None = None  # one at a time
    demo_steps: list[str] = field(default_factory=list)
    _workspace: dict[str, Any] = field(default_factory=dict)
    _workspace_at: float = 0.0
    # user -> (view id, view hash, errors) from the last `response_action: errors`
    _errors: dict[str, tuple[str, str, dict[str, str]]] = field(default_factory=dict)

    @property
    def http(self) -> aiohttp.ClientSession:
        assert self.session is not None, "started by on_startup"
        return self.session

    async def slack(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        url = f"{self.upstreams.slack_url}/_emulator/{path}"
        async with self.http.request(method, url, json=body) as response:
            return response.status, await response.json(content_type=None)

    async def workspace(self) -> dict[str, Any]:
        if time.monotonic() - self._workspace_at > WORKSPACE_TTL:
            status, body = await self.slack("GET", "workspace")
            if status == 200:
                self._workspace, self._workspace_at = body, time.monotonic()
        return self._workspace

    async def directory(self, viewer: str) -> Directory:
        """Names for mentions, and the viewer's own zone: Slack shows `<!date^…>` in it."""
        ws = await self.workspace()
        users = ws.get("users", [])
        zone = next((u.get("tz") for u in users if u["id"] == viewer), None)
        return Directory(
            users={u["id"]: u.get("real_name") or u["name"] for u in users},
            channels={c["id"]: c["name"] for c in ws.get("channels", [])},
            groups={g["id"]: g["handle"] for g in ws.get("usergroups", [])},
            tz=zone if isinstance(zone, str) and zone else "UTC",
        )

    async def people(self) -> list[Person]:
        ws = await self.workspace()
        return people(ws.get("users", []), self.profiles, ws.get("usergroups", []))


CONSOLE = web.AppKey("console", Console)


def _console(request: web.Request) -> Console:
    return request.app[CONSOLE]


async def index(request: web.Request) -> web.Response:
    console = _console(request)
    everyone = await console.people()
    chosen = request.query.get("as") or (everyone[0].user_id if everyone else None)
    return web.Response(
        text=page(render_people(everyone, chosen), console.upstreams.tailscale_url is not None),
        content_type="text/html",
    )


async def static(request: web.Request) -> web.StreamResponse:
    name = request.match_info["name"]
    path = STATIC / name
    if path.suffix not in STATIC_TYPES or path.parent != STATIC or not path.is_file():
        raise web.HTTPNotFound
    text = path.read_text(encoding="utf-8")
    return web.Response(text=text, content_type=STATIC_TYPES[path.suffix])


async def slack_state(request: web.Request) -> web.Response:
    """What the person sees in Slack: the open modal, their DMs, their App Home tab (as
    last published: Slack shows that one), the audit channels."""
    console = _console(request)
    user = request.match_info["user"]
    directory = await console.directory(user)
    _, view = await console.slack("GET", f"current-view/{user}")
    view_part = None
    if isinstance(view, dict):
        errors = None
        kept = console._errors.get(user)
        if kept and kept[:2] == (view.get("id"), view.get("hash")):
            errors = kept[2]
        key = json.dumps([view.get("id"), view.get("hash"), errors])
        view_part = {"key": key, "html": render_view(view, directory, errors)}
    _, dms = await console.slack("GET", f"dms/{user}")
    _, home = await console.slack("GET", f"home/{user}")
    home_part = None
    if isinstance(home, dict):
        key = json.dumps([home.get("id"), home.get("hash")])
        home_part = {"key": key, "html": render_view(home, directory)}
    ws = await console.workspace()
    channels = []
    for channel in ws.get("channels", []):
        if channel.get("is_im"):
            continue
        _, messages = await console.slack("GET", f"messages?channel={channel['id']}")
        messages = messages if isinstance(messages, list) else []
        channels.append(
            {
                "id": channel["id"],
                "name": channel["name"],
                "empty": not messages,
                "html": render_messages(messages, directory),
            }
        )
    return web.json_response(
        {
            "view": view_part,
            "dms": render_messages(dms if isinstance(dms, list) else [], directory),
            "home": home_part,
            "channels": channels,
        }
    )


async def slack_action(request: web.Request) -> web.Response:
    """A click, forwarded to the Slack emulator's driver as the chosen person."""
    console = _console(request)
    user, action = request.match_info["user"], request.match_info["action"]
    if action not in DRIVER_ACTIONS:
        return web.json_response({"error": f"unknown action {action!r}"}, status=404)
    body = await _body(request)
    view = None
    if action == "submit":
        _, view = await console.slack("GET", f"current-view/{user}")
    status, answer = await console.slack("POST", f"driver/{action}", body | {"user_id": user})
    if status != 200:
        error = answer.get("error") if isinstance(answer, dict) else None
        return web.json_response({"error": str(error or f"Slack answered {status}")})
    if action == "type":
        return web.json_response({"html": render_options(answer or {})})
    rejected = isinstance(answer, dict) and answer.get("response_action") == "errors"
    if action == "submit" and isinstance(view, dict) and rejected:
        console._errors[user] = (view["id"], view["hash"], dict(answer.get("errors") or {}))
    return web.json_response({"ok": True})


async def tailnet_stream(request: web.Request) -> web.StreamResponse:
    """Server-sent events: the tailnet pane's HTML whenever it changes."""
    console = _console(request)
    owner = request.query.get("owner")
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache"}
    )
    await response.prepare(request)
    last, quiet_since = "", time.monotonic()
    url = f"{console.upstreams.tailscale_url}/_emulator/tailnet"
    while True:
        try:
            async with console.http.get(url) as answer:
                html = render_tailnet((await answer.json())["devices"], owner)
        except (aiohttp.ClientError, KeyError, ValueError) as exc:
            html = f'<p class="bk-error">tailnet unavailable: {type(exc).__name__}</p>'
        try:
            if html != last:
                data = "".join(f"data: {line}\n" for line in html.splitlines() or [""])
                await response.write(f"{data}\n".encode())
                last, quiet_since = html, time.monotonic()
            elif time.monotonic() - quiet_since > SSE_HEARTBEAT_SECONDS:
                await response.write(b": keep-alive\n\n")
                quiet_since = time.monotonic()
        except (ConnectionResetError, RuntimeError):
            return response
        await asyncio.sleep(TAILNET_POLL_SECONDS)


async def events(request: web.Request) -> web.Response:
    feed = _console(request).feed
    try:
        after = int(request.query.get("after", "0"))
    except ValueError:
        after = 0
    return web.json_response(
        {"events": feed.after(after), "error": feed.error, "invalid": feed.invalid}
    )


async def faults(request: web.Request) -> web.Response:
    """Arm a fault: Tailscale's next attribute call, or Slack's next chat.postMessage."""
    console = _console(request)
    body = await _body(request)
    target, kind = body.get("target"), str(body.get("kind", ""))
    if target == "tailscale" and kind in TAILSCALE_FAULTS and console.upstreams.tailscale_url:
        fault: dict[str, Any] = {"kind": kind, "count": 1, "path": ATTRIBUTE_CALLS}
        if kind == "429":
            fault["retry_after"] = 1
        url = f"{console.upstreams.tailscale_url}/_emulator/faults"
        async with console.http.post(url, json=fault) as answer:
            ok = answer.status == 201
        return web.json_response({"ok": ok, "armed": f"Tailscale: next attribute call {kind}"})
    if target == "slack" and kind == "rate-limit":
        status, _ = await console.slack(
            "POST",
            "rate-limit-next",
            {"method": SLACK_RATE_LIMITED_METHOD, "count": 1, "retry_after": 1},
        )
        return web.json_response(
            {"ok": status == 200, "armed": f"Slack: next {SLACK_RATE_LIMITED_METHOD} 429"}
        )
    return web.json_response({"error": "unknown fault switch"}, status=400)


async def deadletters(request: web.Request) -> web.Response:
    admin = _console(request).admin
    if admin is None:
        return web.json_response({"error": "no admin login: the dead-letter list is not shown"})
    return web.json_response(await dead_letters(admin))


async def demo(request: web.Request) -> web.Response:
    """Start the scripted demo (POST) or tell how far it got (GET)."""
    console = _console(request)
    running = console.demo is not None and not console.demo.done()
    if request.method == "POST" and not running:
        console.demo_steps = []

        def say(step: str) -> None:
            console.demo_steps = [*console.demo_steps, step][-MAX_DEMO_STEPS:]

        async def run() -> None:
            try:
                await play(console.slack, say)
            except (DemoError, aiohttp.ClientError) as exc:
                say(f"The demo stopped: {exc}")

        console.demo = asyncio.create_task(run())
        running = True
    return web.json_response({"running": running, "steps": console.demo_steps})


async def _body(request: web.Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.text() or "{}")
    except ValueError as exc:
        raise web.HTTPBadRequest(text="body must be JSON") from exc
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="body must be a JSON object")
    return body


@web.middleware
async def upstream_errors(request: web.Request, handler: Any) -> web.StreamResponse:
    """An emulator that does not answer is one line for the browser, never a traceback."""
    try:
        response: web.StreamResponse = await handler(request)
    except (aiohttp.ClientError, TimeoutError) as exc:
        what = type(exc).__name__
        return web.json_response(
            {"error": f"an emulator did not answer ({what}); is accessbot dev running?"},
            status=502,
        )
    return response


def make_app(console: Console, hosts: frozenset[str] = LOOPBACK_HOSTS) -> web.Application:
    """`hosts`: the names the console is reached by (see guard.py); others are refused."""
    app = web.Application(
        client_max_size=MAX_BODY, middlewares=[same_machine_only(hosts), upstream_errors]
    )
    app[CONSOLE] = console

    async def open_session(_app: web.Application) -> None:
        console.session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))

    async def close_session(_app: web.Application) -> None:
        if console.session is not None:
            with contextlib.suppress(Exception):
                await console.session.close()

    app.on_startup.append(open_session)
    app.on_cleanup.append(close_session)
    app.add_routes(
        [
            web.get("/", index),
            web.get("/static/{name}", static),
            web.get("/api/slack/{user}", slack_state),
            web.post("/api/slack/{user}/{action}", slack_action),
            web.get("/api/tailnet/stream", tailnet_stream),
            web.get("/api/events", events),
            web.get("/api/deadletters", deadletters),
            web.get("/api/demo", demo),
            web.post("/api/demo", demo),
            web.post("/api/faults", faults),
        ]
    )
    return app
