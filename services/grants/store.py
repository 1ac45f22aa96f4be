"""KV `grants`: grant records by request id, changed only by compare-and-set on the revision."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from services.grants.holders import AttributeHolders, holders_key, is_holders_key
from services.grants.records import GrantRecord

WATCH_IDLE_SECONDS = 5.0


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
        """The record, or None when grants never saw this request."""
        try:
            entry = await self._kv.get(request_id)
        except KeyNotFoundError:  # also a deleted key
            return None
        if entry.value is None or entry.revision is None:
            return None
        return Stored(GrantRecord.model_validate_json(entry.value), entry.revision)

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
        """Every record, read with one watcher (for the start-up sweep)."""
        found: list[Stored] = []
        watcher = await self._kv.watchall(ignore_deletes=True)
        try:
            while True:
                # nats-py's watcher methods carry no annotations
                entry = await watcher.updates(timeout=WATCH_IDLE_SECONDS)  # type: ignore[no-untyped-call]
                if entry is None:  # the marker after the last stored value
                    break
                if is_holders_key(entry.key):
                    continue  # the shared state of a device's attribute, not a grant
                if entry.value is not None and entry.revision is not None:
                    record = GrantRecord.model_validate_json(entry.value)
                    found.append(Stored(record, entry.revision))
        finally:
            await watcher.stop()  # type: ignore[no-untyped-call]  # unannotated in nats-py
        return found


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
        try:
            entry = await self._kv.get(holders_key(device_id, attribute))
        except KeyNotFoundError:
            entry = None
        if entry is None or entry.value is None or entry.revision is None:
            return StoredHolders(AttributeHolders.empty(device_id, attribute), 0)
        return StoredHolders(AttributeHolders.model_validate_json(entry.value), entry.revision)

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
