"""Durable consumers of approvals: each one decodes and hands over to `Approvals`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from faststream.nats import NatsBroker

from services.approvals import SERVICE
from services.approvals.app import Approvals
from shared.consumers import ConsumerSpec, consumer
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import (
    CancelRequest,
    DecideRequest,
    ExtendGrant,
    GrantApplied,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
    Message,
    SubmitRequest,
)
from shared.keyed_locks import KeyedLocks
from shared.subscribing import subscribe_events, subscribe_timers
from shared.timers import TimerFired

# Messages handled at once per consumer, so one request's slow handling (a KV write
# retried, a NATS hiccup) does not hold up others; one request's run one at a time.
WORKERS = 8

E = TypeVar("E", bound=Message)


def register(broker: NatsBroker, app: Approvals) -> None:
    """Subscribe every consumer of `shared.consumers` that approvals owns."""
    locks = KeyedLocks()

    def sub(name: str, model: type[E], handler: Callable[[Envelope[E]], Awaitable[None]]) -> None:
        subscribe_events(
            broker, _spec(name), model, handler, max_workers=WORKERS, per_request=locks
        )

    sub("submitted", SubmitRequest, app.on_submitted)
    sub("decision", DecideRequest, app.on_decision)
    sub("cancel", CancelRequest, app.on_cancel)
    sub("extend", ExtendGrant, app.on_extend)
    sub("grant_applied", GrantApplied, app.on_grant)
    sub("grant_extended", GrantExtended, app.on_grant)
    sub("grant_ended", GrantExpired, app.on_grant)
    sub("grant_revoked", GrantRevoked, app.on_grant)
    sub("grant_failed", GrantFailed, app.on_grant)
    subscribe_timers(
        broker,
        _spec("timer_request"),
        TimerFired,
        app.on_timer,
        max_workers=WORKERS,
        per_request=locks,
    )


def _spec(name: str) -> ConsumerSpec:
    return consumer(SERVICE, f"{SERVICE}_{name}")
