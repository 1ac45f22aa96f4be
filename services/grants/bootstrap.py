"""The grants service's one composition root: clients, broker, subscribers, hooks, readiness."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict, Unpack

import httpx
import structlog
from nats.js import JetStreamContext

from services.grants import metrics
from services.grants.adapters.inventory_sync import InventorySync
from services.grants.adapters.store import grant_store, holders_store
from services.grants.adapters.tailscale.client import TailscaleClient
from services.grants.adapters.tailscale.retry import RetryPolicy
from services.grants.domain.tailscale_errors import TailscaleError
from services.grants.entrypoints.subscribers import SERVICE, register
from services.grants.handlers.outbox import Outbox
from services.grants.handlers.recovery import expire_due, resume_unfinished
from services.grants.handlers.workflow import GrantWorkflow
from services.grants.ports import GrantStore
from services.grants.settings import GrantsSettings
from shared.connection import make_broker
from shared.contracts.subjects import Bucket, TimerPurpose
from shared.logging import configure_logging
from shared.profiles import load_profiles
from shared.publishing import EventPublisher
from shared.runtime import Service, Wiring, run_process
from shared.startup import build_or_exit, settings_or_exit
from shared.timers import schedule

SOURCE = "accessbot/grants"
READY_TIMEOUT_SECONDS = 5.0  # a readiness probe must answer promptly

log = structlog.get_logger("accessbot.grants")


class GrantsOverrides(TypedDict, total=False):
    """What tests may swap in (nothing here replaces a client by a fake)."""

    run_inventory: bool  # False: no background sync (tests that count API calls)
    run_recovery: bool  # False: no start-up or reconnect sweep


@dataclass(frozen=True, slots=True)
class Handlers:
    """What grants runs on once NATS is connected, each part built with all it needs."""

    workflow: GrantWorkflow
    store: GrantStore
    inventory: InventorySync


def build(settings: GrantsSettings, **overrides: Unpack[GrantsOverrides]) -> Service:
    """Wire the grants service; nothing connects until the Service starts."""
    profiles = load_profiles(settings.profiles_path)
    tasks: list[asyncio.Task[None]] = []
    recover = overrides.get("run_recovery", True)
    tailscale = TailscaleClient(
        api_url=settings.tailscale_api_url,
        tailnet=settings.tailscale_tailnet,
        client_id=settings.tailscale_oauth_client_id,
        client_secret=settings.tailscale_oauth_client_secret,
        policy=RetryPolicy(
            budget_seconds=settings.tailscale_retry_budget_seconds,
            base_delay=settings.tailscale_retry_base_delay_seconds,
            max_delay=settings.tailscale_retry_max_delay_seconds,
        ),
        request_timeout=settings.tailscale_request_timeout_seconds,
    )

    async def wire(js: JetStreamContext) -> Handlers:
        publisher = EventPublisher(js, source=SOURCE)

        async def schedule_expiry(request_id: str, due_at: datetime, generation: int) -> None:
            await schedule(js, TimerPurpose.GRANT_EXPIRY, request_id, due_at, generation=generation)

        grants_kv = await js.key_value(Bucket.GRANTS.value)
        store = grant_store(grants_kv)
        return Handlers(
            workflow=GrantWorkflow(
                store=store,
                holders=holders_store(grants_kv),
                tailscale=tailscale,
                outbox=Outbox(store, publisher, schedule_expiry),
                announcer=publisher,
                profiles=profiles,
                lease_seconds=settings.lease_seconds,
            ),
            store=store,
            inventory=InventorySync(
                await js.key_value(Bucket.DEVICES.value),
                tailscale,
                interval=settings.grants_inventory_interval_seconds,
                concurrency=settings.grants_inventory_concurrency,
            ),
        )

    wiring = Wiring(wire)

    async def on_reconnected() -> None:
        # Grants that fell due while NATS was away: their timers may sit unacked with a
        # dead pull for an ack wait; the records say what is due (recovery.expire_due).
        if recover and wiring.wired:
            parts = wiring.handlers
            sweep = expire_due(parts.store, parts.workflow)
            tasks.append(asyncio.create_task(sweep, name="expiry-after-reconnect"))
            tasks[:] = [t for t in tasks if not t.done()]

    broker = make_broker(settings, name=SERVICE, reconnected_cb=on_reconnected)
    register(broker, lambda: wiring.handlers.workflow)

    async def on_started() -> None:
        parts = wiring.handlers  # on_started runs only after the wiring hook
        if overrides.get("run_inventory", True):
            tasks.append(asyncio.create_task(parts.inventory.run(), name="inventory"))
        if recover:

            async def sweep() -> None:
                await expire_due(parts.store, parts.workflow)  # due timers a dead process held
                await resume_unfinished(parts.store, parts.workflow)

            tasks.append(asyncio.create_task(sweep(), name="recovery"))

    async def on_stop() -> None:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        tasks.clear()
        await tailscale.aclose()

    async def refresh_metrics() -> None:
        if wiring.wired:
            await metrics.refresh_active(wiring.handlers.store)

    async def tailscale_ready() -> bool:
        if wiring.wired and wiring.handlers.inventory.healthy():
            return True
        try:
            await asyncio.wait_for(tailscale.ensure_token(), timeout=READY_TIMEOUT_SECONDS)
        except (TailscaleError, httpx.HTTPError, TimeoutError) as exc:
            log.warning("ready.tailscale_unavailable", error=str(exc))
            return False
        return True

    return Service(
        name=SERVICE,
        settings=settings,
        broker=broker,
        on_connected=[wiring.connect],
        on_started=[on_started],
        on_stop=[on_stop],
        ready_checks={"tailscale": tailscale_ready},
        metrics_refreshes=[refresh_metrics],
    )


def main() -> None:
    """Entry point of `accessbot serve grants` and `python -m services.grants`."""
    settings = settings_or_exit(SERVICE, GrantsSettings)
    configure_logging(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run_process(build_or_exit(SERVICE, build, settings))
