"""Running one service: connect, provision, start subscribers, serve health, stop on signal.

Each service's `bootstrap.py` builds a `Service` (settings, clients, broker, hooks);
`run_service` runs it until SIGINT/SIGTERM. Tests build the same `Service` with
emulator URLs and drive `start`/`stop` themselves.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog
from faststream.nats import NatsBroker
from nats.js import JetStreamContext

from shared.consumers import advisory_consumer, consumers_of, deadletter_sources
from shared.health import HealthServer
from shared.metrics.exposition import MetricsExposition, Refresh
from shared.otel import configure_tracing, shutdown_tracing
from shared.provisioning import bound_deliveries, provision
from shared.settings import ServiceSettings

Hook = Callable[[], Awaitable[None]]
log = structlog.get_logger("accessbot.runtime")


@dataclass
class Service:
    """One service's parts, built by its composition root."""

    name: str
    settings: ServiceSettings
    broker: NatsBroker
    # Run after the broker connected and provisioning passed, before subscribers start.
    on_connected: list[Callable[[JetStreamContext], Awaitable[None]]] = field(default_factory=list)
    # Run after subscribers started (e.g. open a Slack socket, start a sync loop).
    on_started: list[Hook] = field(default_factory=list)
    # Run on stop, in reverse order.
    on_stop: list[Hook] = field(default_factory=list)
    ready_checks: dict[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)
    # Run before a `/metrics` answer (at most every few seconds): set gauges from state.
    metrics_refreshes: list[Refresh] = field(default_factory=list)
    health: HealthServer | None = None
    _started: bool = False

    @property
    def js(self) -> JetStreamContext:
        """JetStream on the broker's connection (after `start`)."""
        return self.broker.connection.jetstream()

    async def start(self) -> None:
        """Connect, provision, run hooks, start subscribers, serve health."""
        configure_tracing(self.name)  # OTLP export only when OTEL_EXPORTER_OTLP_ENDPOINT is set
        await self.broker.connect()
        js = self.js
        report = await provision(
            js,
            max_age_days=self.settings.access_max_age_days,
            replicas=self.settings.stream_replicas,
        )
        for drift in report.drift:
            log.error("provision.drift", detail=str(drift), hint="fix the stream or the setting")
        if report.created:
            log.info("provision.created", created=report.created)
        if consumers_of(self.name):
            wanted = [*deadletter_sources(self.name), advisory_consumer(self.name)]
            for update in await bound_deliveries(js, wanted):
                log.warning(
                    "provision.consumer_updated",
                    consumer=update.durable,
                    max_deliver=update.now,
                    was=update.was,
                )
        for hook in self.on_connected:
            await hook(js)
        await self.broker.start()
        for started in self.on_started:
            await started()
        self._started = True
        if self.settings.health_port is not None:
            self.health = HealthServer(
                self.name,
                self.settings.health_host,
                self.settings.health_port,
                MetricsExposition(self.metrics_refreshes),
            )
            self.health.add_check("nats", self._nats_ok)
            for name, check in self.ready_checks.items():
                self.health.add_check(name, check)
            await self.health.start()
        log.info("service.ready", nats_user=self.settings.nats_user)

    async def _nats_ok(self) -> bool:
        return self._started and self.broker.connection.is_connected

    async def stop(self) -> None:
        """Stop health, hooks (reverse order) and the broker."""
        if self.health is not None:
            await self.health.stop()
        for hook in reversed(self.on_stop):
            try:
                await hook()
            except Exception:
                log.exception("service.stop_hook_failed")
        await self.broker.stop()
        await asyncio.to_thread(shutdown_tracing)  # a no-op unless exporting
        self._started = False
        log.info("service.stopped")


async def run_service(service: Service) -> None:
    """Run until SIGINT or SIGTERM, then stop cleanly."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await service.start()
    try:
        await stop.wait()
    finally:
        await service.stop()
