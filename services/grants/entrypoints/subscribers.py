"""Grants' durable consumers: decode, then delegate to the workflow (no logic here)."""

from __future__ import annotations

from collections.abc import Callable

from faststream.nats import NatsBroker

from services.grants.handlers.workflow import GrantWorkflow
from shared.consumers import consumer
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import ExtensionApproved, RequestApproved, RevokeGrant
from shared.keyed_locks import KeyedLocks
from shared.subscribing import subscribe_events, subscribe_timers
from shared.timers import TimerFired

SERVICE = "grants"
# Messages handled at once per consumer: a grant waiting out Tailscale's retries must not
# hold up other requests' grants. One request's messages still run one at a time.
WORKERS = 8


def register(broker: NatsBroker, workflow: Callable[[], GrantWorkflow]) -> None:
    """Subscribe every grants consumer; `workflow` is built (`Wiring`) before these start."""

    async def approved(envelope: Envelope[RequestApproved]) -> None:
        await workflow().on_approved(envelope)

    async def extension(envelope: Envelope[ExtensionApproved]) -> None:
        await workflow().on_extension(envelope)

    async def revoke(envelope: Envelope[RevokeGrant]) -> None:
        await workflow().on_revoke(envelope)

    async def expiry(fired: TimerFired) -> None:
        await workflow().on_expiry_timer(fired)

    locks = KeyedLocks()
    subscribe_events(
        broker,
        consumer(SERVICE, "grants_approved"),
        RequestApproved,
        approved,
        max_workers=WORKERS,
        per_request=locks,
    )
    subscribe_events(
        broker,
        consumer(SERVICE, "grants_extension"),
        ExtensionApproved,
        extension,
        max_workers=WORKERS,
        per_request=locks,
    )
    subscribe_events(
        broker,
        consumer(SERVICE, "grants_revoke"),
        RevokeGrant,
        revoke,
        max_workers=WORKERS,
        per_request=locks,
    )
    subscribe_timers(
        broker,
        consumer(SERVICE, "grants_timer_grant"),
        TimerFired,
        expiry,
        max_workers=WORKERS,
        per_request=locks,
    )
