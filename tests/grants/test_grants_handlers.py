"""Grants' workflow on in-memory ports (fast): the outbox flush and the conflict limit.

The store is `shared.persistence.memory.MemoryStore`, held to the same contract as KV
(tests/shared/test_persistence_contract.py). Tailscale is never reached in these tests.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from services.grants.adapters.store import GRANT_CODEC, HOLDERS_CODEC
from services.grants.domain import transitions
from services.grants.domain.posture_attributes import AttributeValue, DeviceAttributes
from services.grants.domain.records import GrantRecord
from services.grants.handlers.holders_store import HoldersStore
from services.grants.handlers.operations import GrantBusyError
from services.grants.handlers.outbox import Outbox
from services.grants.handlers.workflow import GrantWorkflow
from services.grants.ports import Stored
from shared.contracts.cloudevents import CloudEventMeta, Envelope, ce_type
from shared.contracts.events import Event, GrantApplied, RequestApproved
from shared.ids import new_id
from shared.persistence.memory import MemoryStore
from shared.persistence.outbox import OutboxEntry
from shared.persistence.versioned import ConflictError
from shared.profiles import load_profiles
from shared.retry import CONFLICT_ATTEMPTS
from tests.conftest import PROFILES_PATH
from tests.grants.test_grants_transitions import LEASE, T0, approved, claimed


class NoTailscale:
    """Fails the test if the workflow calls Tailscale."""

    async def get_attributes(
        self, device_id: str, *, deadline: float | None = None
    ) -> DeviceAttributes:
        raise AssertionError("Tailscale called")

    async def set_attribute(
        self,
        device_id: str,
        key: str,
        value: AttributeValue,
        *,
        expiry: datetime | None,
        comment: str | None,
        deadline: float | None = None,
    ) -> None:
        raise AssertionError("Tailscale called")

    async def delete_attribute(
        self, device_id: str, key: str, *, deadline: float | None = None
    ) -> bool:
        raise AssertionError("Tailscale called")


class ListAnnouncer:
    """Keeps what was published."""

    def __init__(self) -> None:
        self.entries: list[OutboxEntry] = []
        self.events: list[Event] = []

    async def publish(
        self, event: Event, *, event_id: str | None = None, time: datetime | None = None
    ) -> None:
        self.events.append(event)

    async def publish_entry(self, entry: OutboxEntry) -> None:
        self.entries.append(entry)


class AlwaysConflicting(MemoryStore[GrantRecord]):
    """Another replica wins every compare-and-set."""

    def __init__(self) -> None:
        super().__init__(GRANT_CODEC)
        self.attempts = 0

    async def update(self, record: GrantRecord, revision: int) -> Stored:
        self.attempts += 1
        raise ConflictError(self.key_of(record))


def workflow(
    store: MemoryStore[GrantRecord], announcer: ListAnnouncer, timers: list[int]
) -> GrantWorkflow:
    async def schedule(request_id: str, due_at: datetime, generation: int) -> None:
        timers.append(generation)

    return GrantWorkflow(
        store=store,
        holders=HoldersStore(MemoryStore(HOLDERS_CODEC)),
        tailscale=NoTailscale(),
        outbox=Outbox(store, announcer, schedule, now=lambda: T0),
        announcer=announcer,
        profiles=load_profiles(PROFILES_PATH),
        lease_seconds=LEASE,
        now=lambda: T0,
    )


def envelope(event: RequestApproved) -> Envelope[RequestApproved]:
    meta = CloudEventMeta(
        id=new_id(),
        source="accessbot/approvals",
        type=ce_type(event.SUBJECT),
        time=T0,
        subject=event.request_id,
    )
    return Envelope(meta=meta, event=event)


async def test_a_redelivered_approval_flushes_the_stored_outbox_once() -> None:
    store: MemoryStore[GrantRecord] = MemoryStore(GRANT_CODEC)
    announcer, timers = ListAnnouncer(), list[int]()
    applied = transitions.applied(claimed(), now=T0)  # the process died before publishing
    await store.create(applied)
    event = approved().model_copy(update={"request_id": applied.request_id})

    await workflow(store, announcer, timers).on_approved(envelope(event))

    [entry] = announcer.entries
    assert entry == applied.outbox[0]
    assert isinstance(entry.event(), GrantApplied)
    assert timers == [applied.generation]
    after = await store.load(applied.request_id)
    assert after is not None
    assert after.record.outbox == []
    assert not after.record.timer_pending

    await workflow(store, announcer, timers).on_approved(envelope(event))  # once more
    assert len(announcer.entries) == 1


async def test_a_record_that_keeps_changing_is_retried_later_after_the_conflict_limit() -> None:
    store = AlwaysConflicting()
    record = claimed()
    assert record.op is not None
    lapsed_op = record.op.model_copy(update={"lease_until": T0 - timedelta(seconds=1)})
    lapsed = record.model_copy(update={"op": lapsed_op})
    await store.create(lapsed)  # an operation whose owner died: resume it

    with pytest.raises(GrantBusyError) as caught:
        await workflow(store, ListAnnouncer(), []).resume(lapsed.request_id)
    assert store.attempts == CONFLICT_ATTEMPTS
    assert caught.value.delay > 0
