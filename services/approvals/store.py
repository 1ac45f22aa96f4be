"""Request records in KV `requests`, changed only by compare-and-set on the revision."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from services.approvals.record import RequestRecord
from shared.kv_reading import get_checked, latest


@dataclass(frozen=True, slots=True)
class Stored:
    """A record and the revision it was read at."""

    record: RequestRecord
    revision: int


class RequestStore:
    """Reads and CAS-writes request records; a lost race returns None, never overwrites."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def load(self, request_id: str) -> Stored | None:
        """The record and its revision, or None when there is none (ForgedEntryError: forged)."""
        found = await get_checked(self._kv, request_id)
        if found is None:
            return None
        value, revision = found
        return Stored(RequestRecord.model_validate_json(value), revision)

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
        """Every record, read without a consumer (for the expiry sweep)."""
        current, _ = await latest(self._kv)
        return [
            RequestRecord.model_validate_json(change.value)
            for change in current.values()
            if change.value is not None
        ]


def _encode(record: RequestRecord) -> bytes:
    return record.model_dump_json().encode()
