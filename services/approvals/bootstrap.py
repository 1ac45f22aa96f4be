"""The composition root of approvals: settings in, a runnable `Service` out."""

from __future__ import annotations

import asyncio
from datetime import datetime

from nats.js import JetStreamContext

from services.approvals import SERVICE, SOURCE, metrics
from services.approvals.adapters.devices import DeviceDirectory
from services.approvals.adapters.store import budget_store, claim_store, request_store
from services.approvals.entrypoints.expiry_sweep import expire_due
from services.approvals.entrypoints.subscribers import register
from services.approvals.handlers import Approvals, Clock, utc_now
from services.approvals.ports import Ports
from services.approvals.settings import ApprovalsSettings
from shared.connection import make_broker
from shared.contracts.subjects import Bucket, TimerPurpose
from shared.logging import configure_logging
from shared.profiles import load_profiles
from shared.publishing import EventPublisher
from shared.runtime import Service, Wiring, run_process
from shared.startup import build_or_exit, settings_or_exit
from shared.timers import schedule


def build(settings: ApprovalsSettings, *, clock: Clock = utc_now) -> Service:
    """Load profiles (an invalid file stops here, naming every problem) and wire the service."""
    profiles = load_profiles(settings.profiles_path)
    sweeps: set[asyncio.Task[None]] = set()

    async def wire(js: JetStreamContext) -> Approvals:
        async def schedule_expiry(request_id: str, due_at: datetime, *, generation: int) -> None:
            await schedule(
                js, TimerPurpose.REQUEST_EXPIRY, request_id, due_at, generation=generation
            )

        return Approvals(
            profiles,
            Ports(
                store=request_store(await js.key_value(Bucket.REQUESTS.value)),
                devices=DeviceDirectory(await js.key_value(Bucket.DEVICES.value)),
                publisher=EventPublisher(js, source=SOURCE),
                schedule_expiry=schedule_expiry,
                budgets=budget_store(await js.key_value(Bucket.AUTO_APPROVALS.value)),
                claims=claim_store(await js.key_value(Bucket.DEVICE_CLAIMS.value)),
            ),
            clock=clock,
        )

    wiring = Wiring(wire)

    def sweep() -> None:
        # Expiries that fell due while their timers were out of reach (expiry_sweep).
        if wiring.wired:
            app = wiring.handlers
            task = asyncio.create_task(expire_due(app.requests, app.on_timer), name="expiry-sweep")
            sweeps.add(task)
            task.add_done_callback(sweeps.discard)

    async def on_reconnected() -> None:
        sweep()

    async def on_started() -> None:
        sweep()

    async def on_stop() -> None:
        for task in list(sweeps):
            task.cancel()
        await asyncio.gather(*sweeps, return_exceptions=True)

    broker = make_broker(settings, name=SERVICE, reconnected_cb=on_reconnected)
    register(broker, wiring)

    async def wired() -> bool:
        return wiring.wired

    async def refresh_metrics() -> None:
        if wiring.wired:
            await metrics.refresh_pending(wiring.handlers.requests)

    return Service(
        name=SERVICE,
        settings=settings,
        broker=broker,
        on_connected=[wiring.connect],
        on_started=[on_started],
        on_stop=[on_stop],
        ready_checks={"requests": wired},
        metrics_refreshes=[refresh_metrics],
    )


def main() -> None:
    """Run approvals with settings from the environment until SIGINT/SIGTERM."""
    settings = settings_or_exit(SERVICE, ApprovalsSettings)
    configure_logging(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run_process(build_or_exit(SERVICE, build, settings))
