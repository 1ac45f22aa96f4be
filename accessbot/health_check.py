"""`accessbot health <service>`: ask a running service whether it is ready."""

from __future__ import annotations

import os
import sys

import httpx


def readiness_url(service: str, url: str | None) -> str | None:
    """The URL to ask: explicit (already ending in /readyz, see `cli_args.base_url`), else
    HEALTH_HOST/HEALTH_PORT of this environment."""
    if url:
        return url
    port = os.environ.get("HEALTH_PORT")
    if not port:
        return None
    host = os.environ.get("HEALTH_HOST", "127.0.0.1")
    host = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - mapping, not binding
    return f"http://{host}:{port}/readyz"


def check_health(service: str, *, url: str | None, timeout: float) -> int:
    """Exit code 0 when ready, 1 when not (with the failing checks on stderr), 2 when the
    endpoint is another service's."""
    target = readiness_url(service, url)
    if target is None:
        print(f"{service}: no readiness URL: pass --url or set HEALTH_PORT", file=sys.stderr)
        return 2
    try:
        response = httpx.get(target, timeout=timeout)
    except httpx.HTTPError as exc:
        print(f"{service}: not reachable at {target}: {type(exc).__name__}", file=sys.stderr)
        return 1
    try:
        body = response.json()
    except ValueError:
        body = {}
    body = body if isinstance(body, dict) else {}
    answering = body.get("service")
    if isinstance(answering, str) and answering != service:
        print(
            f"{service}: {target} is {answering}'s health endpoint, not {service}'s",
            file=sys.stderr,
        )
        return 2
    if response.status_code == 200 and body.get("ready") is True:
        print(f"{service}: ready")
        return 0
    failing = [k for k, ok in (body.get("checks") or {}).items() if not ok]
    reason = body.get("reason")
    why = f": {reason}" if isinstance(reason, str) and reason else ""
    print(
        f"{service}: not ready ({', '.join(failing) or response.status_code}){why}",
        file=sys.stderr,
    )
    return 1
