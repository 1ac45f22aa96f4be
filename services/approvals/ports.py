"""What the approvals handlers need from outside, as protocols (the adapters implement them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from services.approvals.domain.budget import BudgetRecord
from services.approvals.domain.record import RequestRecord
from shared.contracts.events import DeviceSnapshot, Event
from shared.device_claims import DeviceClaim
from shared.persistence.outbox import EntryPublisher
from shared.persistence.versioned import Versioned, VersionedStore

RequestStore = VersionedStore[RequestRecord]
Stored = Versioned[RequestRecord]
BudgetStore = VersionedStore[BudgetRecord]
ClaimStore = VersionedStore[DeviceClaim]


class Publisher(EntryPublisher, Protocol):
    """Publishes events (refusals) and stored outbox entries (shared.publishing)."""

    async def publish(
        self, event: Event, *, event_id: str | None = None, time: datetime | None = None
    ) -> object:
        """Put `event` on the stream under `event_id`."""
        ...


class Devices(Protocol):
    """Device snapshots by node id (services.approvals.adapters.devices.DeviceDirectory)."""

    async def get(self, device_id: str) -> DeviceSnapshot | None:
        """The device's snapshot, or None when unknown or unreadable."""
        ...


class ExpiryScheduler(Protocol):
    """Schedules (or replaces) the request-expiry timer of one request."""

    async def __call__(self, request_id: str, due_at: datetime, *, generation: int) -> None:
        """Fire `TimerFired` for `request_id` at `due_at`."""


@dataclass(frozen=True, slots=True)
class Ports:
    """What the approvals logic needs from NATS (built once connected, see bootstrap)."""

    store: RequestStore
    devices: Devices
    publisher: Publisher
    schedule_expiry: ExpiryScheduler
    budgets: BudgetStore
    claims: ClaimStore
