"""One contract, two stores: the NATS KV store and the in-memory fake must agree.

Every test runs against a real nats-server bucket and against `MemoryStore`, so a
handler test using the fake sees the same conflicts, revisions and absences as KV.
"""

from __future__ import annotations

import pytest
from nats.js import JetStreamContext
from pydantic import BaseModel, ConfigDict

from shared.persistence.kv_store import KvStore
from shared.persistence.memory import MemoryStore
from shared.persistence.transact import Decision, TooManyConflictsError, transact
from shared.persistence.versioned import (
    ConflictError,
    Versioned,
    VersionedStore,
    model_codec,
)
from shared.subjects import Bucket


class Item(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str
    count: int = 0


CODEC = model_codec(Item, lambda item: item.key)


def _not_hidden(key: str) -> bool:
    return not key.startswith("hidden.")


@pytest.fixture
async def kv_store(admin_js: JetStreamContext) -> VersionedStore[Item]:
    """The store on a real bucket of a real nats-server."""
    return KvStore(await admin_js.key_value(Bucket.REQUESTS.value), CODEC, include=_not_hidden)


# The real-server side is asked for lazily, so its tier is stated here rather than found.
@pytest.fixture(params=[pytest.param("nats", marks=pytest.mark.nats), "memory"])
def store(request: pytest.FixtureRequest) -> VersionedStore[Item]:
    if request.param == "memory":
        return MemoryStore(CODEC, include=_not_hidden)
    found: VersionedStore[Item] = request.getfixturevalue("kv_store")
    return found


async def test_an_absent_or_invalid_key_loads_as_none(store: VersionedStore[Item]) -> None:
    assert await store.load("absent") is None
    assert await store.load("no such key") is None
    assert await store.load("a.*") is None


async def test_a_created_record_loads_with_its_revision(store: VersionedStore[Item]) -> None:
    created = await store.create(Item(key="r1", count=1))
    loaded = await store.load("r1")
    assert loaded == Versioned("r1", Item(key="r1", count=1), created.revision)
    assert created.revision > 0


async def test_creating_an_existing_key_conflicts_and_changes_nothing(
    store: VersionedStore[Item],
) -> None:
    first = await store.create(Item(key="r1", count=1))
    with pytest.raises(ConflictError) as caught:
        await store.create(Item(key="r1", count=2))
    assert caught.value.key == "r1"
    assert await store.load("r1") == first


async def test_an_update_at_the_read_revision_moves_the_revision(
    store: VersionedStore[Item],
) -> None:
    first = await store.create(Item(key="r1"))
    second = await store.update(Item(key="r1", count=5), first.revision)
    assert second.revision > first.revision
    assert await store.load("r1") == second


async def test_an_update_at_a_stale_revision_conflicts_and_changes_nothing(
    store: VersionedStore[Item],
) -> None:
    first = await store.create(Item(key="r1"))
    second = await store.update(Item(key="r1", count=1), first.revision)
    with pytest.raises(ConflictError):
        await store.update(Item(key="r1", count=99), first.revision)
    assert await store.load("r1") == second


async def test_updating_an_absent_key_conflicts(store: VersionedStore[Item]) -> None:
    other = await store.create(Item(key="other"))
    with pytest.raises(ConflictError):
        await store.update(Item(key="absent"), other.revision)
    assert await store.load("absent") is None


async def test_revisions_are_one_sequence_across_keys(store: VersionedStore[Item]) -> None:
    a = await store.create(Item(key="a"))
    b = await store.create(Item(key="b"))
    with pytest.raises(ConflictError):  # b's revision is not a's
        await store.update(Item(key="a", count=1), b.revision)
    assert b.revision > a.revision


async def test_all_lists_current_records_of_included_keys(store: VersionedStore[Item]) -> None:
    a = await store.create(Item(key="a"))
    await store.create(Item(key="hidden.x"))
    b = await store.create(Item(key="b"))
    a2 = await store.update(Item(key="a", count=3), a.revision)
    assert sorted(await store.all(), key=lambda v: v.key) == [a2, b]


def _increment(stored: Versioned[Item] | None) -> Decision[Item, int]:
    if stored is None:
        return Decision(Item(key="r1", count=1), 1)
    return Decision(Item(key="r1", count=stored.record.count + 1), stored.record.count + 1)


async def test_transact_creates_then_updates(store: VersionedStore[Item]) -> None:
    first = await transact(store, "r1", _increment)
    second = await transact(store, "r1", _increment)
    assert (first.before, first.outcome) == (None, 1)
    assert second.before == first.written
    assert second.written == await store.load("r1")
    assert second.outcome == 2


async def test_transact_decides_again_after_a_lost_race(store: VersionedStore[Item]) -> None:
    stale = await store.create(Item(key="r1", count=1))
    await store.update(Item(key="r1", count=7), stale.revision)  # another replica won
    seen: list[int] = []

    def decide(stored: Versioned[Item] | None) -> Decision[Item, int]:
        seen.append(stored.record.count if stored else 0)
        return _increment(stored)

    done = await transact(store, "r1", decide, current=stale)
    assert seen == [1, 7]  # decided on the stale read, lost, read again, decided again
    assert done.outcome == 8
    loaded = await store.load("r1")
    assert loaded is not None
    assert loaded.record.count == 8


async def test_transact_gives_up_after_its_attempts(store: VersionedStore[Item]) -> None:
    stale = await store.create(Item(key="r1", count=1))
    moved = await store.update(Item(key="r1", count=2), stale.revision)
    with pytest.raises(TooManyConflictsError) as caught:
        await transact(store, "r1", _increment, current=stale, attempts=1)
    assert caught.value.key == "r1"
    assert caught.value.delay > 0  # redelivered later, not retried in a loop
    assert await store.load("r1") == moved


async def test_transact_writes_nothing_when_nothing_changes(store: VersionedStore[Item]) -> None:
    created = await store.create(Item(key="r1", count=1))
    same = await transact(store, "r1", lambda s: Decision(s.record if s else None, "same"))
    assert same.written is None
    assert same.latest == created
    assert await store.load("r1") == created
