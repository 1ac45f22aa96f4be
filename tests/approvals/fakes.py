"""In-memory ports for approvals handler tests: a KV-like store, a list-backed publisher."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

from services.approvals.adapters.store import BUDGET_CODEC, CLAIM_CODEC, CODEC
from services.approvals.domain.budget import BudgetRecord
from services.approvals.domain.record import RequestRecord
from services.approvals.handlers import Approvals
from services.approvals.ports import Ports, RequestStore, Stored
from shared.contracts.cloudevents import CloudEventMeta, Envelope, ce_type
from shared.contracts.events import DeviceSnapshot, Event, Message
from shared.contracts.subjects import Subject
from shared.device_claims import DeviceClaim
from shared.ids import new_id
from shared.persistence.memory import MemoryStore
from shared.persistence.outbox import OutboxEntry
from shared.persistence.versioned import ConflictError
from tests.approvals.factories import DAVE_DEVICE_IDS, NOW, device, profiles

E = TypeVar("E", bound=Message)


def envelope(event: E) -> Envelope[E]:
    """`event` as intake would have published it, at NOW."""
    meta = CloudEventMeta(
        id=new_id(),
        source="accessbot/intake",
        type=ce_type(event.SUBJECT),
        time=NOW,
        subject=event.request_id,
    )
    return Envelope(meta=meta, event=event)


class ListPublisher:
    """Keeps (event id, event) of each publish; fails the first `crashes` of them."""

    def __init__(self, crashes: int = 0) -> None:
        self.sent: list[tuple[str, Message]] = []
        self.crashes = crashes

    async def publish(
        self, event: Event, *, event_id: str | None = None, time: datetime | None = None
    ) -> None:
        self._crash_maybe()
        self.sent.append((event_id or "", event))

    async def publish_entry(self, entry: OutboxEntry) -> None:
        self._crash_maybe()
        self.sent.append((entry.event_id, entry.event()))

    def on(self, subject: Subject) -> list[tuple[str, Message]]:
        """What went out on `subject`, in order."""
        return [(eid, event) for eid, event in self.sent if event.SUBJECT is subject]

    def _crash_maybe(self) -> None:
        if self.crashes > 0:
            self.crashes -= 1
            raise ConnectionError("simulated crash before publishing")


class KnownDevices:
    """Device snapshots by node id."""

    def __init__(self, *devices: DeviceSnapshot) -> None:
        self._devices = {d.node_id: d for d in devices}

    async def get(self, device_id: str) -> DeviceSnapshot | None:
        return self._devices.get(device_id)


class StaleOnceStore:
    """Returns an older snapshot on the first load, as a replica racing another would see."""

    def __init__(self, inner: RequestStore, stale: Stored) -> None:
        self._inner = inner
        self._stale: Stored | None = stale
        self.conflicts = 0

    def key_of(self, record: RequestRecord) -> str:
        return self._inner.key_of(record)

    async def load(self, request_id: str) -> Stored | None:
        stale, self._stale = self._stale, None
        return stale if stale is not None else await self._inner.load(request_id)

    async def create(self, record: RequestRecord) -> Stored:
        raise AssertionError("a decision never creates a record")

    async def update(self, record: RequestRecord, revision: int) -> Stored:
        try:
            return await self._inner.update(record, revision)
        except ConflictError:
            self.conflicts += 1
            raise

    async def all(self) -> list[Stored]:
        return await self._inner.all()


@dataclass
class FakeHarness:
    """Builds `Approvals` on in-memory ports sharing one store and one publisher."""

    store: MemoryStore[RequestRecord] = field(default_factory=lambda: MemoryStore(CODEC))
    publisher: ListPublisher = field(default_factory=ListPublisher)
    devices: KnownDevices = field(
        default_factory=lambda: KnownDevices(*(device(d) for d in DAVE_DEVICE_IDS))
    )
    scheduled: list[tuple[str, datetime]] = field(default_factory=list)
    budgets: MemoryStore[BudgetRecord] = field(default_factory=lambda: MemoryStore(BUDGET_CODEC))
    claims: MemoryStore[DeviceClaim] = field(default_factory=lambda: MemoryStore(CLAIM_CODEC))
    now: datetime = NOW

    async def schedule(self, request_id: str, due_at: datetime, *, generation: int) -> None:
        self.scheduled.append((request_id, due_at))

    def app(
        self, *, publisher: ListPublisher | None = None, store: RequestStore | None = None
    ) -> Approvals:
        return Approvals(
            profiles(),
            Ports(
                store=store or self.store,
                devices=self.devices,
                publisher=publisher or self.publisher,
                schedule_expiry=self.schedule,
                budgets=self.budgets,
                claims=self.claims,
            ),
            clock=lambda: self.now,
        )
