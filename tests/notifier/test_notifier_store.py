"""The notifier's record store on the in-memory KV fake: re-apply on a lost race, bounded ledger."""

from __future__ import annotations

from services.notifier.adapters.store import CODEC, RecordStore
from services.notifier.domain.record import MessageRef, NotifierRecord
from shared.persistence.ledger import LEDGER_LIMIT
from shared.persistence.memory import MemoryStore

REF_A = MessageRef(channel="C1", ts="1.1", digest="a")
REF_B = MessageRef(channel="C2", ts="2.2", digest="b")


async def test_a_change_on_a_stale_read_is_re_applied_to_the_newer_record() -> None:
    store = RecordStore(MemoryStore(CODEC))
    fresh = await store.load("r1")
    assert fresh.revision is None
    assert fresh.record == NotifierRecord.new("r1")

    stale = await store.change(fresh, lambda r: r.with_ref("approver", REF_A))
    assert stale.revision is not None
    other_replica = await store.change(stale, lambda r: r.with_ref("requester", REF_B))

    mine = await store.change(stale, lambda r: r.with_applied("e1"))  # stale: loses, re-reads

    assert mine.revision is not None
    assert other_replica.revision is not None
    assert mine.revision > other_replica.revision
    assert mine.record.messages == {"approver": REF_A, "requester": REF_B}
    assert mine.record.has_applied("e1")
    assert (await store.load("r1")).record == mine.record


async def test_an_unchanged_record_is_not_written_again() -> None:
    records = MemoryStore(CODEC)
    store = RecordStore(records)
    stored = await store.change(await store.load("r1"), lambda r: r.with_applied("e1"))
    again = await store.change(stored, lambda r: r.with_applied("e1"))
    assert again == stored
    assert records.writes == 1


def test_the_applied_events_ledger_keeps_the_newest_at_its_limit() -> None:
    record = NotifierRecord.new("r1")
    for n in range(LEDGER_LIMIT + 1):
        record = record.with_applied(f"e{n}")
    assert len(record.applied_events) == LEDGER_LIMIT
    assert not record.has_applied("e0")
    assert record.has_applied(f"e{LEDGER_LIMIT}")
