"""A record write after a Slack post rides out a leader election instead of failing the
event (whose redelivery would post the message a second time)."""

from __future__ import annotations

from typing import cast

import pytest
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import KeyWrongLastSequenceError, NoStreamResponseError
from nats.js.kv import KeyValue

from services.notifier import store as store_module
from services.notifier.record import MessageRef, NotifierRecord
from services.notifier.store import RecordStore, Versioned

REF = MessageRef(channel="D1", ts="1.1", digest="x")


class ElectingBucket:
    """A bucket whose stream has no leader for the first `silent` writes; a write can land
    even though its answer was lost (as a timed-out publish can)."""

    def __init__(self, silent: int, *, lands: bool = False) -> None:
        self.silent = silent
        self.lands = lands
        self.stored: dict[str, bytes] = {}
        self.writes = 0

    async def create(self, key: str, value: bytes) -> int:
        self.writes += 1
        if key in self.stored:
            raise KeyWrongLastSequenceError
        if self.silent > 0:
            self.silent -= 1
            if self.lands:
                self.stored[key] = value
            raise NatsTimeoutError
        self.stored[key] = value
        return 1

    async def get(self, key: str) -> object:
        value = self.stored[key]
        return type("Entry", (), {"value": value, "revision": 1})()


def _store(bucket: ElectingBucket) -> RecordStore:
    store = RecordStore()
    store._kv = cast(KeyValue, bucket)
    return store


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "WRITE_RETRY_PAUSE_SECONDS", 0.01)


async def test_a_write_nobody_answered_is_tried_again() -> None:
    bucket = ElectingBucket(silent=3)
    new = Versioned("R1", NotifierRecord.new("R1"), None)
    saved = await _store(bucket).change(new, lambda r: r.with_ref("approver:bob", REF))
    assert saved.record.messages == {"approver:bob": REF}
    assert bucket.writes == 4


async def test_a_write_that_landed_without_an_answer_is_not_doubled() -> None:
    bucket = ElectingBucket(silent=1, lands=True)
    new = Versioned("R1", NotifierRecord.new("R1"), None)
    saved = await _store(bucket).change(new, lambda r: r.with_ref("approver:bob", REF))
    assert saved.record.messages == {"approver:bob": REF}
    assert NotifierRecord.model_validate_json(bucket.stored["R1"]).messages == {"approver:bob": REF}


async def test_the_patience_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(store_module, "WRITE_PATIENCE_SECONDS", 0.1)
    bucket = ElectingBucket(silent=10_000)

    async def never(key: str, value: bytes) -> int:
        bucket.writes += 1
        raise NoStreamResponseError

    bucket.create = never  # type: ignore[method-assign]
    new = Versioned("R1", NotifierRecord.new("R1"), None)
    with pytest.raises(NoStreamResponseError):
        await _store(bucket).change(new, lambda r: r.with_ref("approver:bob", REF))
    assert 2 <= bucket.writes <= 20
