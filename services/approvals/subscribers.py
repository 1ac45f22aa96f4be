"""Durable consumers of approvals: each one decodes and hands over to `Approvals`."""

from __future__ import annotations

from faststream.nats import NatsBroker

from services.approvals import SERVICE
from services.approvals.app import Approvals
from shared.consumers import ConsumerSpec, consumer
from shared.events import (
    CancelRequested,
    DecisionSubmitted,
    ExtendSubmitted,
    GrantApplied,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
    RequestSubmitted,
)
from shared.subscribing import subscribe_events, subscribe_timers
from shared.timers import TimerFired


def register(broker: NatsBroker, app: Approvals) -> None:
    """Subscribe every consumer of `shared.consumers` that approvals owns."""
    subscribe_events(broker, _spec("submitted"), RequestSubmitted, app.on_submitted)
    subscribe_events(broker, _spec("decision"), DecisionSubmitted, app.on_decision)
    subscribe_events(broker, _spec("cancel"), CancelRequested, app.on_cancel)
    subscribe_events(broker, _spec("extend"), ExtendSubmitted, app.on_extend)
    subscribe_events(broker, _spec("grant_applied"), GrantApplied, app.on_grant)
    subscribe_events(broker, _spec("grant_extended"), GrantExtended, app.on_grant)
    subscribe_events(broker, _spec("grant_ended"), GrantExpired, app.on_grant)
    subscribe_events(broker, _spec("grant_revoked"), GrantRevoked, app.on_grant)
    subscribe_events(broker, _spec("grant_failed"), GrantFailed, app.on_grant)
    subscribe_timers(broker, _spec("timer_request"), TimerFired, app.on_timer)


def _spec(name: str) -> ConsumerSpec:
    return consumer(SERVICE, f"{SERVICE}_{name}")
