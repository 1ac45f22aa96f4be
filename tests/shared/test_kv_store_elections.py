"""A KV write nobody answered (a cluster electing the bucket's leader) is sent again for
the store's patience; one that landed without an answer reads as a lost race. The
notifier writes its message references with that patience: a failed write after a Slack
post would make the redelivered event post the message twice."""

from __future__ import annotations

from typing import cast

import pytest
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.errors import KeyWrongLastSequenceError, NoStreamResponseError
from nats.js.kv import KeyValue

from services.notifier.adapters.store import CODEC, WRITE_PATIENCE_SECONDS
from services.notifier.domain.record import NotifierRecord
from shared import leaderless
from shared.persistence.kv_store import KvStore
from shared.persistence.versioned import ConflictError


class ElectingBucket:
    """Its first `silent` writes get no answer; with `lands` they were stored anyway."""

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


def _store(bucket: object, patience: float) -> KvStore[NotifierRecord]:
    return KvStore(cast(KeyValue, bucket), CODEC, patience=patience)


@pytest.fixture(autouse=True)
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(leaderless, "RETRY_PAUSE_SECONDS", 0.01)


async def test_a_write_nobody_answered_is_sent_again() -> None:
    bucket = ElectingBucket(silent=3)
    saved = await _store(bucket, patience=5.0).create(NotifierRecord.new("R1"))
    assert saved.revision == 1
    assert bucket.writes == 4


async def test_a_write_that_landed_unanswered_reads_as_a_lost_race() -> None:
    bucket = ElectingBucket(silent=1, lands=True)
    with pytest.raises(ConflictError):
        await _store(bucket, patience=5.0).create(NotifierRecord.new("R1"))
    assert "R1" in bucket.stored  # stored once; the transact loop re-reads and re-applies


async def test_without_patience_and_past_it_the_error_stands() -> None:
    with pytest.raises(NatsTimeoutError):
        await _store(ElectingBucket(silent=1), patience=0.0).create(NotifierRecord.new("R1"))

    class Leaderless:
        writes = 0

        async def create(self, key: str, value: bytes) -> int:
            Leaderless.writes += 1
            raise NoStreamResponseError

    with pytest.raises(NoStreamResponseError):
        await _store(Leaderless(), patience=0.1).create(NotifierRecord.new("R1"))
    assert 2 <= Leaderless.writes <= 20


def test_the_notifier_rides_out_an_election() -> None:
    assert WRITE_PATIENCE_SECONDS >= 10  # nats-server elects a new leader in 4-9 s
