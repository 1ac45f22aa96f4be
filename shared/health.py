"""A tiny HTTP endpoint: `/healthz` (alive), `/readyz` (ready to work), `/metrics` (Prometheus).

It listens before the service connects, so while NATS is unreachable both health paths
answer with the reason (`/healthz` stays 200: the process is alive and retrying; `/readyz`
is 503). Both name the service and its process id, so whoever started the process can
tell its answer from another process's on a port that changed hands.
"""

from __future__ import annotations

import json
import os
from collections.abc import Awaitable, Callable

from aiohttp import web

from shared.metrics.exposition import MetricsExposition

ReadyCheck = Callable[[], Awaitable[bool]]
NotReadyReason = Callable[[], str | None]


HEALTH_PORT_PROBLEM = "cannot serve health on"  # how HealthPortError's message begins


def answered_by(body: bytes, pid: int) -> bool:
    """Whether a /healthz or /readyz answer came from process `pid` (not from another
    program that took the port when that process could not)."""
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return isinstance(data, dict) and data.get("pid") == pid


class HealthPortError(RuntimeError):
    """The health endpoint cannot listen where HEALTH_HOST/HEALTH_PORT say (taken, say)."""


class HealthServer:
    """Serves readiness from checks registered by the service's composition root."""

    def __init__(
        self, service: str, host: str, port: int, metrics: MetricsExposition | None = None
    ) -> None:
        self._service = service
        self._metrics = metrics or MetricsExposition()
        self._host = host
        self._port = port
        self._checks: dict[str, ReadyCheck] = {}
        self._reasons: list[NotReadyReason] = []
        self._runner: web.AppRunner | None = None
        self.bound_port: int | None = None

    def add_check(self, name: str, check: ReadyCheck) -> None:
        """Readiness requires every check to pass."""
        self._checks[name] = check

    def add_reason(self, reason: NotReadyReason) -> None:
        """A source of "why not ready" (None when it has nothing to say), shown by both."""
        self._reasons.append(reason)

    async def _state(self) -> tuple[bool, dict[str, bool], str | None]:
        results: dict[str, bool] = {}
        for name, check in self._checks.items():
            try:
                results[name] = await check()
            except Exception:  # noqa: BLE001 - a failing check means not ready
                results[name] = False
        reason = next((r for r in (source() for source in self._reasons) if r), None)
        ready = bool(results) and all(results.values()) and reason is None
        return ready, results, reason

    async def _healthz(self, _: web.Request) -> web.Response:
        ready, _results, reason = await self._state()
        body: dict[str, object] = {
            "service": self._service,
            "pid": os.getpid(),
            "alive": True,
            "ready": ready,
        }
        if reason is not None:
            body["reason"] = reason
        return web.json_response(body)

    async def _readyz(self, _: web.Request) -> web.Response:
        ready, results, reason = await self._state()
        body: dict[str, object] = {
            "service": self._service,
            "pid": os.getpid(),
            "ready": ready,
            "checks": results,
        }
        if reason is not None:
            body["reason"] = reason
        return web.json_response(body, status=200 if ready else 503)

    async def _metrics_text(self, _: web.Request) -> web.Response:
        body = await self._metrics.render()
        return web.Response(body=body, headers={"Content-Type": self._metrics.content_type})

    async def start(self) -> None:
        """Listen on host:port (port 0 picks a free one; see `bound_port`)."""
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", self._metrics_text)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self._host, self._port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            self._runner = None
            reason = exc.strerror or str(exc)
            raise HealthPortError(
                f"{HEALTH_PORT_PROBLEM} {self._host}:{self._port}: {reason}"
            ) from None
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        self.bound_port = sockets[0].getsockname()[1] if sockets else self._port

    async def stop(self) -> None:
        """Stop listening."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
