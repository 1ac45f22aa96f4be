"""Only the person at this machine drives the console.

Loopback is not enough on its own: any web page open in the same browser can send a
"simple" cross-site POST (text/plain, no preflight) to 127.0.0.1, and a DNS-rebound name
makes such a page same-origin. So every request must name one of the console's own hosts,
a POST must be JSON (which a cross-site page cannot send without a CORS preflight the
console never grants), and an Origin, when sent, must be one of those hosts too.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

from aiohttp import web
from aiohttp.typedefs import Middleware

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
_Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def host_name(host: str) -> str:
    """`127.0.0.1:4282` -> `127.0.0.1`, `[::1]:4282` -> `[::1]`, lower case."""
    host = host.strip().lower()
    if host.startswith("["):
        return host[: host.find("]") + 1] if "]" in host else host
    return host.split(":", 1)[0]


def refusal(
    method: str,
    host: str | None,
    content_type: str,
    origin: str | None,
    allowed: frozenset[str],
) -> tuple[int, str] | None:
    """Why a request is refused (status, one line), or None when it may proceed."""
    if not host or host_name(host) not in allowed:
        return 403, "the console answers only on its own address"
    # a sandboxed frame or a file sends "null": not the console's page either
    if origin is not None and host_name(urlsplit(origin).netloc) not in allowed:
        return 403, "the console accepts clicks only from its own page"
    if method == "POST" and content_type != "application/json":
        return 415, "the console accepts only JSON"
    return None


def same_machine_only(allowed: frozenset[str]) -> Middleware:
    """aiohttp middleware refusing what `refusal` refuses, as one JSON line."""

    @web.middleware
    async def guard(request: web.Request, handler: _Handler) -> web.StreamResponse:
        refused = refusal(
            request.method,
            request.headers.get("Host"),
            request.content_type,
            request.headers.get("Origin"),
            allowed,
        )
        if refused is not None:
            status, reason = refused
            return web.json_response({"error": reason}, status=status)
        return await handler(request)

    return guard
