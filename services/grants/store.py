"""KV `grants`: grant records by request id, changed only by compare-and-set on the revision."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from services.grants.records import GrantRecord
from shared.kv_reading import get_checked, latest


class GrantConflictError(Exception):
    """Someone else changed (or created) the record first: re-read and decide again."""


@dataclass(frozen=True, slots=True)
class Stored:
    """A record and the revision it was read (or written) at."""

    record: GrantRecord
    revision: int


class GrantStore:
    """Reads and compare-and-set writes of grant records."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def get(self, request_id: str) -> Stored | None:
        """The record, or None when grants never saw this request (ForgedEntryError: forged)."""
        found = await get_checked(self._kv, request_id)
        if found is None:
            return None
        value, revision = found
        return Stored(GrantRecord.model_validate_json(value), revision)

    async def create(self, record: GrantRecord) -> Stored:
        """Write a new record; GrantConflictError when it exists already."""
        try:
            revision = await self._kv.create(record.request_id, record.model_dump_json().encode())
        except KeyWrongLastSequenceError:
            raise GrantConflictError(record.request_id) from None
        return Stored(record, revision)

    async def update(self, record: GrantRecord, revision: int) -> Stored:
        """Replace the record read at `revision`; GrantConflictError when it changed since."""
        try:
            new_revision = await self._kv.update(
                record.request_id, record.model_dump_json().encode(), last=revision
            )
        except KeyWrongLastSequenceError:
            raise GrantConflictError(record.request_id) from None
        return Stored(record, new_revision)

    async def all(self) -> list[Stored]:
        """Every record, read without a consumer (for the recovery sweeps)."""
        current, _ = await latest(self._kv)
        return [
            Stored(GrantRecord.model_validate_json(change.value), change.revision)
            for change in current.values()
            if change.value is not None
        ]
