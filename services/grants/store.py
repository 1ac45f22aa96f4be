"""KV `grants`: grant records by request id, changed only by compare-and-set on the revision."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js.errors import KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from services.grants.holders import AttributeHolders, holders_key, is_holders_key
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
        """Every grant record, read without a consumer (for the recovery sweeps)."""
        current, _ = await latest(self._kv)
        return [
            Stored(GrantRecord.model_validate_json(change.value), change.revision)
            for key, change in current.items()
            if change.value is not None and not is_holders_key(key)  # holders: shared state
        ]


@dataclass(frozen=True, slots=True)
class StoredHolders:
    """A holders record and the revision it was read (or written) at; 0: not stored yet."""

    holders: AttributeHolders
    revision: int


class HoldersStore:
    """Holders records (services.grants.holders) in the same bucket, by compare-and-set."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def get(self, device_id: str, attribute: str) -> StoredHolders:
        """The pair's record; an empty one at revision 0 when nobody ever held it."""
        found = await get_checked(self._kv, holders_key(device_id, attribute))
        if found is None:
            return StoredHolders(AttributeHolders.empty(device_id, attribute), 0)
        value, revision = found
        return StoredHolders(AttributeHolders.model_validate_json(value), revision)

    async def put(self, holders: AttributeHolders, revision: int) -> StoredHolders:
        """Write over the record read at `revision` (0: create); GrantConflictError if it moved."""
        key = holders_key(holders.device_id, holders.attribute)
        data = holders.model_dump_json().encode()
        try:
            if revision == 0:
                new_revision = await self._kv.create(key, data)
            else:
                new_revision = await self._kv.update(key, data, last=revision)
        except KeyWrongLastSequenceError:
            raise GrantConflictError(key) from None
        return StoredHolders(holders, new_revision)
