"""The composition root of approvals: settings in, a runnable `Service` out."""

from __future__ import annotations

import asyncio
from datetime import datetime

from nats.js import JetStreamContext

from services.approvals import SERVICE, SOURCE
from services.approvals.app import Approvals, Clock, Ports, utc_now
from services.approvals.devices import DeviceDirectory
from services.approvals.settings import ApprovalsSettings
from services.approvals.store import RequestStore
from services.approvals.subscribers import register
from shared.connection import make_broker
from shared.logging import configure_logging
from shared.profiles import load_profiles
from shared.publishing import EventPublisher
from shared.runtime import Service, run_service
from shared.startup import build_or_exit, settings_or_exit
from shared.subjects import Bucket, TimerPurpose
from shared.timers import schedule


def build(settings: ApprovalsSettings, *, clock: Clock = utc_now) -> Service:
    """Load profiles (an invalid file stops here, naming every problem) and wire the service."""
    profiles = load_profiles(settings.profiles_path)
    app = Approvals(profiles, clock=clock)
    broker = make_broker(settings, name=SERVICE)
    register(broker, app)

    async def bind(js: JetStreamContext) -> None:
        async def schedule_expiry(request_id: str, due_at: datetime, *, generation: int) -> None:
            await schedule(
                js, TimerPurpose.REQUEST_EXPIRY, request_id, due_at, generation=generation
            )

        app.bind(
            Ports(
                store=RequestStore(await js.key_value(Bucket.REQUESTS.value)),
                devices=DeviceDirectory(await js.key_value(Bucket.DEVICES.value)),
                publisher=EventPublisher(js, source=SOURCE),
                schedule_expiry=schedule_expiry,
            )
        )

    async def bound() -> bool:
        return app.ready

    return Service(
        name=SERVICE,
        settings=settings,
        broker=broker,
        on_connected=[bind],
        ready_checks={"requests": bound},
    )


def main() -> None:
    """Run approvals with settings from the environment until SIGINT/SIGTERM."""
    settings = settings_or_exit(SERVICE, ApprovalsSettings)
    configure_logging(SERVICE, fmt=settings.log_format, level=settings.log_level)
    asyncio.run(run_service(build_or_exit(SERVICE, build, settings)))
