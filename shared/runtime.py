"""Running one service: connect, provision, start subscribers, serve health, stop on signal.

Each service's `bootstrap.py` builds a `Service` (settings, clients, broker, hooks);
`run_process` (its `main`) runs it until SIGINT/SIGTERM. Tests build the same `Service` with
emulator URLs and drive `start`/`stop` themselves.

Connect first, then wire: a service's handlers need NATS (stores, publisher), so they are
built by its `Wiring` (the first `on_connected` hook) once connected, fully formed, before
any subscriber starts. Subscribers registered at build time reach them through
`Wiring.handlers`.

`run_service` says at once where it connects, serves health before connecting (so
`/healthz` tells why it is not ready while NATS is unreachable), and a signal ends it
within `STOP_SECONDS` in any state: connecting, running or draining.
"""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Generic, TypeVar

import structlog
from faststream.exceptions import IncorrectState
from faststream.nats import NatsBroker
from nats.errors import Error as NatsError
from nats.js import JetStreamContext

from shared import event_loop, gc_policy
from shared.connection import broker_reachability
from shared.consumers import advisory_consumer, consumers_of, deadletter_sources
from shared.event_loop import running_loop
from shared.health import HealthPortError, HealthServer
from shared.leaderless import LEADERLESS
from shared.memory import release_free_memory
from shared.metrics.exposition import MetricsExposition, Refresh
from shared.otel import configure_tracing, shutdown_tracing
from shared.provisioning import NotReadableYetError, bound_deliveries, provision
from shared.reachability import (
    NatsReachability,
    NatsRefusedError,
    StoppedError,
    describe_failure,
    until_stopped,
)
from shared.settings import ServiceSettings

Hook = Callable[[], Awaitable[None]]
T = TypeVar("T")
H = TypeVar("H")
# JetStream answers "busy" while a cluster elects a leader or is loaded (a service and
# its peers creating R3 consumers on two cores): a request times out, or the server
# says 503, or a stream just created is not found yet. Starting is tried again this many
# times, BUSY_WAIT_SECONDS apart, then fails.
BUSY_ATTEMPTS = 10
BUSY_WAIT_SECONDS = 2.0
BUSY_ERRORS = (*LEADERLESS, NotReadableYetError)
STOP_SECONDS = 5.0  # docker compose's default grace is 10 s
CLOSE_SECONDS = 1.0
EXIT_REFUSED = 2
EXIT_FAILED = 1
log = structlog.get_logger("accessbot.runtime")


async def while_jetstream_busy(
    what: str,
    step: Callable[[], Awaitable[T]],
    *,
    attempts: int = BUSY_ATTEMPTS,
    wait: float = BUSY_WAIT_SECONDS,
) -> T:
    """Run an idempotent start-up step, again while JetStream is busy (bounded)."""
    for attempt in range(1, attempts + 1):
        try:
            return await step()
        except BUSY_ERRORS as exc:
            if attempt == attempts:
                raise
            log.warning(
                "startup.jetstream_busy",
                step=what,
                attempt=attempt,
                of=attempts,
                reason=describe_failure(exc),
            )
            await asyncio.sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover - the loop returns or raises


class NotWiredError(RuntimeError):
    """Handlers asked for before `Service.start` built them (a wiring mistake, not a state)."""


class Wiring(Generic[H]):
    """A service's handlers, built by `wire(js)` once NATS is connected.

    Its `connect` is a service's first `on_connected` hook: `Service.start` runs it after
    connecting and provisioning and before it starts the subscribers, so a message (and a
    later hook) always finds the handlers built with everything they need; nothing inside
    them is ever unbound.
    """

    def __init__(self, wire: Callable[[JetStreamContext], Awaitable[H]]) -> None:
        self._wire = wire
        self._handlers: H | None = None

    async def connect(self, js: JetStreamContext) -> None:
        """Build the handlers on this connection (again when the Service starts again)."""
        self._handlers = await self._wire(js)

    @property
    def wired(self) -> bool:
        """True once the handlers are built."""
        return self._handlers is not None

    @property
    def handlers(self) -> H:
        """The handlers; only subscribers and hooks that run after `connect` ask."""
        if self._handlers is None:
            raise NotWiredError("handlers asked for before the service connected")
        return self._handlers


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
    _reachability: NatsReachability | None = None

    @property
    def reachability(self) -> NatsReachability:
        """Where the broker connects, and why it is not connected (see shared.reachability)."""
        if self._reachability is None:
            self._reachability = broker_reachability(self.broker, self.settings)
        return self._reachability

    @property
    def js(self) -> JetStreamContext:
        """JetStream on the broker's connection (after `start`)."""
        return self.broker.connection.jetstream()

    async def start(self) -> None:
        """Connect, provision, run hooks, start subscribers, serve health."""
        configure_tracing(self.name)  # OTLP export only when OTEL_EXPORTER_OTLP_ENDPOINT is set
        await self.broker.connect()
        await self.reachability.on_connected()
        js = self.js
        report = await while_jetstream_busy(
            "provision",
            lambda: provision(
                js,
                max_age_days=self.settings.access_max_age_days,
                replicas=self.settings.stream_replicas,
            ),
        )
        for drift in report.drift:
            log.error("provision.drift", detail=str(drift), hint="fix the stream or the setting")
        if report.created:
            log.info("provision.created", created=report.created)
        if consumers_of(self.name):
            wanted = [*deadletter_sources(self.name), advisory_consumer(self.name)]
            updates = await while_jetstream_busy("consumers", lambda: bound_deliveries(js, wanted))
            for update in updates:
                log.warning(
                    "provision.consumer_updated",
                    consumer=update.durable,
                    max_deliver=update.now,
                    was=update.was,
                )
        for hook in self.on_connected:
            await hook(js)
        await while_jetstream_busy("subscribers", self._start_subscribers)
        for started in self.on_started:
            await started()
        self._started = True
        await self.serve_health()
        log.info("service.ready", nats_user=self.settings.nats_user, event_loop=running_loop())

    async def _start_subscribers(self) -> None:
        """Start the broker; on failure, stop what started so a new attempt starts clean."""
        try:
            await self.broker.start()
        except BaseException:
            for subscriber in self.broker.subscribers:
                with suppress(NatsError, OSError, TimeoutError, IncorrectState):
                    await subscriber.stop()
            raise

    async def serve_health(self) -> None:
        """Listen on the health port, if one is set (once; before connecting is fine)."""
        if self.settings.health_port is None or self.health is not None:
            return
        self.health = HealthServer(
            self.name,
            self.settings.health_host,
            self.settings.health_port,
            MetricsExposition(self.metrics_refreshes),
        )
        self.health.add_check("nats", self._nats_ok)
        for name, check in self.ready_checks.items():
            self.health.add_check(name, check)
        self.health.add_reason(lambda: self.reachability.reason)
        await self.health.start()

    async def _nats_ok(self) -> bool:
        return self._started and self.broker.connection.is_connected

    async def stop(self) -> None:
        """Stop health, hooks (reverse order) and the broker."""
        if self.health is not None:
            await self.health.stop()
            self.health = None
        for hook in reversed(self.on_stop):
            try:
                await hook()
            except Exception:
                log.exception("service.stop_hook_failed")
        self.reachability.closing()
        try:
            await self.broker.stop()  # drains: in-flight handlers finish, then close
        except (NatsError, OSError) as exc:
            # Reconnecting: nothing to drain into; unacked messages are redelivered.
            log.warning("service.stopped_without_drain", reason=describe_failure(exc))
            await self.close_without_drain()
        await asyncio.to_thread(shutdown_tracing)  # a no-op unless exporting
        self._started = False
        log.info("service.stopped")

    async def close_without_drain(self) -> None:
        """Close the connection now; what was not acked is redelivered to the next run."""
        with suppress(IncorrectState, NatsError, OSError, TimeoutError):
            await asyncio.wait_for(self.broker.connection.close(), timeout=CLOSE_SECONDS)


def run_process(service: Service) -> None:
    """A service process's whole run (each service's `main`): the collector tuned
    (shared.gc_policy), `run_service` on the services' event loop (shared.event_loop),
    and what starting built frozen by the last `on_started` hook."""
    gc_policy.tune()
    service.on_started.append(_freeze_started)
    event_loop.run(run_service(service))


async def _freeze_started() -> None:
    frozen = gc_policy.freeze_started()
    log.info("service.gc_frozen", objects=frozen, gen0_threshold=gc_policy.GEN0_THRESHOLD)
    release_free_memory(after="service.started")  # what starting built and dropped


async def run_service(service: Service) -> None:
    """Run until SIGINT or SIGTERM, then stop within `STOP_SECONDS`.

    A refused NATS password ends the process with exit code 2 and one line; any other
    failure to start, with exit code 1 and one `service.start_failed` line (JSON, the
    traceback inside it), never a bare traceback beside the log.
    """
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    service.reachability.announce()
    try:
        await service.serve_health()
        await until_stopped(service.start(), stop)
        await stop.wait()
        log.info("service.stopping", state="running")
    except StoppedError:
        log.info("service.stopping", state="connecting")
    except NatsRefusedError as exc:
        log.error("%s", exc, hint="check NATS_USER and NATS_PASSWORD")
        await _stop_within(service, STOP_SECONDS)
        raise SystemExit(EXIT_REFUSED) from None
    except HealthPortError as exc:
        log.error("%s", exc, hint="set HEALTH_PORT to a free port")
        await _stop_within(service, STOP_SECONDS)
        raise SystemExit(EXIT_REFUSED) from None
    except Exception as exc:
        log.exception("service.start_failed", reason=describe_failure(exc))
        await _stop_within(service, STOP_SECONDS)
        raise SystemExit(EXIT_FAILED) from None
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    await _stop_within(service, STOP_SECONDS)


async def _stop_within(service: Service, seconds: float) -> None:
    """Stop, giving in-flight handlers until the deadline (unacked messages come back)."""
    budget = seconds - CLOSE_SECONDS - 0.5  # the rest: closing, and the process's exit
    try:
        await asyncio.wait_for(service.stop(), timeout=budget)
    except TimeoutError:
        log.warning("service.stop_timed_out", seconds=budget, hint="unacked messages come back")
        await service.close_without_drain()
