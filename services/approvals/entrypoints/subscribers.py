"""Durable consumers of approvals: each one decodes and hands over to `Approvals`."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from faststream.nats import NatsBroker

from services.approvals import SERVICE
from services.approvals.handlers import Approvals
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
from shared.runtime import Wiring
from shared.subscribing import subscribe_events, subscribe_timers
from shared.timers import TimerFired

# Messages handled at once per consumer, so one request's slow handling (a KV write
# retried, a NATS hiccup) does not hold up others; one request's run one at a time.
WORKERS = 8

E = TypeVar("E", bound=Message)
M = TypeVar("M")


def register(broker: NatsBroker, wiring: Wiring[Approvals]) -> None:
    """Subscribe every consumer of `shared.consumers` that approvals owns.

    The handlers are built once NATS is connected (`Wiring`), before these start.
    """
    locks = KeyedLocks()

    def to(
        pick: Callable[[Approvals], Callable[[M], Awaitable[None]]],
    ) -> Callable[[M], Awaitable[None]]:
        async def handle(message: M) -> None:
            await pick(wiring.handlers)(message)

        return handle

    def sub(name: str, model: type[E], handler: Callable[[Envelope[E]], Awaitable[None]]) -> None:
        subscribe_events(
            broker, _spec(name), model, handler, max_workers=WORKERS, per_request=locks
        )

    sub("submitted", SubmitRequest, to(lambda a: a.on_submitted))
    sub("decision", DecideRequest, to(lambda a: a.on_decision))
    sub("cancel", CancelRequest, to(lambda a: a.on_cancel))
    sub("extend", ExtendGrant, to(lambda a: a.on_extend))
    sub("grant_applied", GrantApplied, to(lambda a: a.on_grant))
    sub("grant_extended", GrantExtended, to(lambda a: a.on_grant))
    sub("grant_ended", GrantExpired, to(lambda a: a.on_grant))
    sub("grant_revoked", GrantRevoked, to(lambda a: a.on_grant))
    sub("grant_failed", GrantFailed, to(lambda a: a.on_grant))
    subscribe_timers(
        broker,
        _spec("timer_request"),
        TimerFired,
        to(lambda a: a.on_timer),
        max_workers=WORKERS,
        per_request=locks,
    )


def _spec(name: str) -> ConsumerSpec:
    return consumer(SERVICE, f"{SERVICE}_{name}")
