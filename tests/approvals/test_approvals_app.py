"""The handlers on real KV and JetStream: outbox recovery, CAS re-application, idempotency.

These drive `Approvals` directly (as the approvals NATS user) so a crash or a lost
compare-and-set can be staged deterministically.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import PubAck

from accessbot.natsserver import EmbeddedNats
from services.approvals import SOURCE
from services.approvals.app import Approvals, Ports
from services.approvals.devices import DeviceDirectory
from services.approvals.record import RequestRecord, RequestStatus
from services.approvals.store import RequestStore, Stored
from shared.cloudevents import CloudEventMeta, Envelope, ce_type, decode
from shared.connection import connect
from shared.events import ApprovalRequested, Event, RequestApproved
from shared.ids import new_id
from shared.publishing import EventPublisher
from shared.subjects import Bucket, Subject
from tests.approvals.factories import (
    NOW,
    OWN_DEVICE_ID,
    approvals_settings,
    decision,
    device,
    profiles,
    submitted,
)

E = TypeVar("E", bound=Event)


def envelope(event: E) -> Envelope[E]:
    meta = CloudEventMeta(
        id=new_id(),
        source="accessbot/intake",
        type=ce_type(event.SUBJECT),
        time=NOW,
        subject=event.request_id,
    )
    return Envelope(meta=meta, event=event)


class CrashingPublisher(EventPublisher):
    """Fails its first `crashes` publishes, as if the process died before publishing."""

    def __init__(self, js: JetStreamContext, crashes: int) -> None:
        super().__init__(js, source=SOURCE)
        self.crashes = crashes

    async def publish(
        self,
        event: Event,
        *,
        event_id: str | None = None,
        time: datetime | None = None,
        patience: float = 0.0,
    ) -> PubAck:
        if self.crashes > 0:
            self.crashes -= 1
            raise ConnectionError("simulated crash before publishing")
        return await super().publish(event, event_id=event_id, time=time, patience=patience)


class StaleOnceStore(RequestStore):
    """Returns an older snapshot on the first load, as a replica racing another would see."""

    def __init__(self, inner: RequestStore, stale: Stored) -> None:
        self._inner = inner
        self._stale: Stored | None = stale
        self.conflicts = 0

    async def load(self, request_id: str) -> Stored | None:
        stale, self._stale = self._stale, None
        return stale if stale is not None else await self._inner.load(request_id)

    async def create(self, record: RequestRecord) -> Stored | None:
        raise AssertionError("a decision never creates a record")

    async def update(self, record: RequestRecord, revision: int) -> Stored | None:
        written = await self._inner.update(record, revision)
        self.conflicts += written is None
        return written


@dataclass
class Harness:
    """Builds `Approvals` instances sharing one NATS connection, with fakes where asked."""

    js: JetStreamContext
    store: RequestStore
    devices: DeviceDirectory
    scheduled: list[tuple[str, datetime]] = field(default_factory=list)

    async def schedule(self, request_id: str, due_at: datetime, *, generation: int) -> None:
        self.scheduled.append((request_id, due_at))

    def app(
        self, *, publisher: EventPublisher | None = None, store: RequestStore | None = None
    ) -> Approvals:
        app = Approvals(profiles(), clock=lambda: NOW)
        app.bind(
            Ports(
                store=store or self.store,
                devices=self.devices,
                publisher=publisher or EventPublisher(self.js, source=SOURCE),
                schedule_expiry=self.schedule,
            )
        )
        return app


@pytest.fixture
async def approvals_nc(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> AsyncIterator[Client]:
    nc = await connect(approvals_settings(nats_server), name="test-approvals")
    try:
        yield nc
    finally:
        await nc.drain()


@pytest.fixture
async def harness(approvals_nc: Client, admin_js: JetStreamContext) -> Harness:
    devices_kv = await admin_js.key_value(Bucket.DEVICES.value)
    await devices_kv.put(OWN_DEVICE_ID, device().model_dump_json().encode())
    js = approvals_nc.jetstream()
    return Harness(
        js=js,
        store=RequestStore(await js.key_value(Bucket.REQUESTS.value)),
        devices=DeviceDirectory(await js.key_value(Bucket.DEVICES.value)),
    )


async def stream_events(admin_js: JetStreamContext, subject: Subject) -> list[tuple[str, Event]]:
    """(event id, event) of everything on `subject`, in order."""
    sub = await admin_js.pull_subscribe(subject.value, stream="ACCESS")
    found: list[tuple[str, Event]] = []
    try:
        while True:
            try:
                msgs = await sub.fetch(100, timeout=0.3)
            except TimeoutError:
                return found
            for msg in msgs:
                env = decode(msg.subject, msg.headers, msg.data)
                found.append((env.meta.id, env.event))
    finally:
        await sub.unsubscribe()


async def test_a_crash_before_publishing_is_recovered_on_redelivery(
    harness: Harness, admin_js: JetStreamContext
) -> None:
    sub = envelope(submitted())
    crashing = harness.app(publisher=CrashingPublisher(harness.js, crashes=1))
    with pytest.raises(ConnectionError):
        await crashing.on_submitted(sub)
    stored = await harness.store.load(sub.event.request_id)
    assert stored is not None
    [entry] = stored.record.outbox
    assert not entry.published
    assert await stream_events(admin_js, Subject.APPROVAL_REQUESTED) == []

    await harness.app().on_submitted(sub)  # the redelivery, maybe on another replica

    [(event_id, event)] = await stream_events(admin_js, Subject.APPROVAL_REQUESTED)
    assert event_id == entry.event_id
    assert isinstance(event, ApprovalRequested)
    after = await harness.store.load(sub.event.request_id)
    assert after is not None
    assert after.record.outbox[0].published
    assert [rid for rid, _ in harness.scheduled] == [sub.event.request_id] * 2


async def test_a_lost_compare_and_set_is_re_read_and_re_applied(
    harness: Harness, admin_js: JetStreamContext
) -> None:
    sub = envelope(submitted(profile_id="prod-db"))
    app = harness.app()
    await app.on_submitted(sub)
    rid = sub.event.request_id
    before_alice = await harness.store.load(rid)
    assert before_alice is not None
    await app.on_decision(envelope(decision(rid, "alice@example.com")))

    racing_store = StaleOnceStore(harness.store, before_alice)
    await harness.app(store=racing_store).on_decision(envelope(decision(rid, "bob@example.com")))

    assert racing_store.conflicts == 1
    [(_, approved)] = await stream_events(admin_js, Subject.REQUEST_APPROVED)
    assert isinstance(approved, RequestApproved)
    assert [p.email for p in approved.approvers] == ["alice@example.com", "bob@example.com"]
    final = await harness.store.load(rid)
    assert final is not None
    assert final.record.status is RequestStatus.APPROVED


async def test_a_redelivered_decision_counts_once(
    harness: Harness, admin_js: JetStreamContext
) -> None:
    sub = envelope(submitted(profile_id="prod-db"))
    app = harness.app()
    await app.on_submitted(sub)
    click = envelope(decision(sub.event.request_id, "alice@example.com"))
    await app.on_decision(click)
    await app.on_decision(click)

    stored = await harness.store.load(sub.event.request_id)
    assert stored is not None
    assert len(stored.record.votes) == 1
    assert stored.record.status is RequestStatus.PENDING
    assert await stream_events(admin_js, Subject.DECISION_REFUSED) == []


async def test_a_redelivered_refusal_keeps_its_event_id(
    harness: Harness, admin_js: JetStreamContext
) -> None:
    sub = envelope(submitted())
    app = harness.app()
    await app.on_submitted(sub)
    click = envelope(decision(sub.event.request_id, "mallory@example.com"))
    await app.on_decision(click)
    await app.on_decision(click)

    refusals = await stream_events(admin_js, Subject.DECISION_REFUSED)
    assert len(refusals) == 1  # the second publish had the same id and was dropped
