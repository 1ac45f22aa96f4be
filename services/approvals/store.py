"""Request records in KV `requests`, changed only by compare-and-set on the revision."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from services.approvals.record import RequestRecord


@dataclass(frozen=True, slots=True)
class Stored:
    """A record and the revision it was read at."""

    record: RequestRecord
    revision: int


WATCH_IDLE_SECONDS = 5.0


class RequestStore:
    """Reads and CAS-writes request records; a lost race returns None, never overwrites."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def load(self, request_id: str) -> Stored | None:
        """The record and its revision, or None when there is none."""
        try:
            entry = await self._kv.get(request_id)
        except KeyNotFoundError:
            return None
        if entry.value is None or entry.revision is None:
            return None
        return Stored(RequestRecord.model_validate_json(entry.value), entry.revision)

    async def create(self, record: RequestRecord) -> Stored | None:
        """Store a new record; None when one already exists under its id."""
        try:
            revision = await self._kv.create(record.request_id, _encode(record))
        except KeyWrongLastSequenceError:
            return None
        return Stored(record, revision)

    async def update(self, record: RequestRecord, revision: int) -> Stored | None:
        """Replace the record read at `revision`; None when someone changed it since."""
        try:
            new_revision = await self._kv.update(record.request_id, _encode(record), last=revision)
        except KeyWrongLastSequenceError:
            return None
        return Stored(record, new_revision)

    async def all(self) -> list[RequestRecord]:
        """Every record, read with one watcher (for the metrics' gauges)."""
        found: list[RequestRecord] = []
        watcher = await self._kv.watchall(ignore_deletes=True)
        try:
            while True:
                # nats-py's watcher methods carry no annotations
                entry = await watcher.updates(timeout=WATCH_IDLE_SECONDS)  # type: ignore[no-untyped-call]
                if entry is None:  # the marker after the last stored value
                    break
                if entry.value is not None:
                    found.append(RequestRecord.model_validate_json(entry.value))
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]  # unannotated in nats-py
        return found


def _encode(record: RequestRecord) -> bytes:
    return record.model_dump_json().encode()
