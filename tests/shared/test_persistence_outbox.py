"""The one outbox lifecycle: stage, flush, retain (pure, with a list-backed publisher)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from shared.cloudevents import decode, encode, encode_body
from shared.events import Event
from shared.examples import EXAMPLES
from shared.persistence.outbox import OutboxEntry, flush, pending, retain, stage
from shared.subjects import Subject

NOW = datetime(2026, 12, 4, 12, 0, tzinfo=UTC)
SUBMITTED = EXAMPLES[Subject.REQUEST_SUBMITTED]
APPROVED = EXAMPLES[Subject.REQUEST_APPROVED]


class ListPublisher:
    """Keeps what it was asked to publish; fails once `fail_at` entries went out."""

    def __init__(self, fail_at: int | None = None) -> None:
        self.sent: list[OutboxEntry] = []
        self._fail_at = fail_at

    async def publish_entry(self, entry: OutboxEntry) -> object:
        if self._fail_at is not None and len(self.sent) == self._fail_at:
            raise ConnectionError("the stream did not answer")
        self.sent.append(entry)
        return None


@pytest.mark.parametrize("event", list(EXAMPLES.values()), ids=lambda e: type(e).__name__)
def test_an_entry_publishes_the_bytes_the_event_serialises_to(event: Event) -> None:
    entry = OutboxEntry.of(event, time=NOW)
    stored = OutboxEntry.model_validate_json(entry.model_dump_json())  # a round trip through KV
    assert stored.encoded() == event.model_dump_json().encode()
    assert stored.event() == event
    assert stored.request_id == event.request_id


def test_stage_appends_under_fresh_ids_with_the_cause() -> None:
    first = stage([], [SUBMITTED], now=NOW, cause="in-1")
    both = stage(first, [APPROVED], now=NOW)
    assert [e.subject for e in both] == [Subject.REQUEST_SUBMITTED, Subject.REQUEST_APPROVED]
    assert [e.cause for e in both] == ["in-1", None]
    assert len({e.event_id for e in both}) == 2
    assert pending(both) == both


async def test_flush_publishes_in_order_and_stops_at_the_first_failure() -> None:
    outbox = stage([], [SUBMITTED, APPROVED], now=NOW)
    publisher = ListPublisher(fail_at=1)
    with pytest.raises(ConnectionError):
        await flush(outbox, publisher)
    assert publisher.sent == outbox[:1]
    assert await flush(outbox, ListPublisher()) == {e.event_id for e in outbox}


def test_retain_marks_published_and_keeps_at_most_keep_of_them() -> None:
    outbox = stage([], [SUBMITTED, APPROVED, SUBMITTED], now=NOW)
    ids = [e.event_id for e in outbox]
    kept_all = retain(outbox, {ids[0], ids[1]}, keep=10)
    assert [e.published for e in kept_all] == [True, True, False]
    assert pending(kept_all) == [outbox[2]]
    at_limit = retain(outbox, {ids[0], ids[1]}, keep=1)  # the oldest published leaves
    assert [e.event_id for e in at_limit] == ids[1:]
    assert [e.published for e in at_limit] == [True, False]
    assert retain(outbox, set(ids), keep=0) == []
    assert retain(outbox, set(), keep=0) == outbox


@pytest.mark.parametrize("event", list(EXAMPLES.values()), ids=lambda e: type(e).__name__)
def test_a_stored_entry_goes_on_the_wire_as_its_event_would(event: Event) -> None:
    entry = OutboxEntry.model_validate_json(OutboxEntry.of(event, time=NOW).model_dump_json())
    as_event = encode(event, source="accessbot/test", event_id=entry.event_id, time=NOW)
    as_entry = encode_body(
        entry.subject,
        entry.request_id,
        entry.encoded(),
        source="accessbot/test",
        event_id=entry.event_id,
        time=entry.time,
    )
    assert as_entry == as_event
    assert decode(as_entry.subject, as_entry.headers, as_entry.body).event == event
