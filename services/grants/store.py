"""KV `grants`: grant records by request id and holders records by pair, through the
shared persistence kit (one bucket, two kinds of key)."""

from __future__ import annotations

from dataclasses import dataclass

from nats.js.kv import KeyValue

from services.grants.holders import AttributeHolders, holders_key, is_holders_key
from services.grants.records import GrantRecord
from shared.persistence.kv_store import KvStore
from shared.persistence.versioned import Versioned, VersionedStore, model_codec

GrantStore = VersionedStore[GrantRecord]
Stored = Versioned[GrantRecord]
GRANT_CODEC = model_codec(GrantRecord, lambda record: record.request_id)
HOLDERS_CODEC = model_codec(
    AttributeHolders, lambda holders: holders_key(holders.device_id, holders.attribute)
)


def grant_store(kv: KeyValue) -> KvStore[GrantRecord]:
    """The grant records of bucket `kv` (holders records are shared state, left out of `all`)."""
    return KvStore(kv, GRANT_CODEC, include=lambda key: not is_holders_key(key))


@dataclass(frozen=True, slots=True)
class StoredHolders:
    """A holders record and the revision it was read (or written) at; 0: not stored yet."""

    holders: AttributeHolders
    revision: int


class HoldersStore:
    """Holders records (services.grants.holders), an absent one read as empty at revision 0."""

    def __init__(self, store: VersionedStore[AttributeHolders]) -> None:
        self.records = store

    @classmethod
    def on(cls, kv: KeyValue) -> HoldersStore:
        """The holders records of bucket `kv`."""
        return cls(KvStore(kv, HOLDERS_CODEC, include=is_holders_key))

    async def get(self, device_id: str, attribute: str) -> StoredHolders:
        """The pair's record; an empty one at revision 0 when nobody ever held it."""
        found = await self.records.load(holders_key(device_id, attribute))
        if found is None:
            return StoredHolders(AttributeHolders.empty(device_id, attribute), 0)
        return StoredHolders(found.record, found.revision)

    async def put(self, holders: AttributeHolders, revision: int) -> StoredHolders:
        """Write over the record read at `revision` (0: create); ConflictError if it moved."""
        if revision == 0:
            written = await self.records.create(holders)
        else:
            written = await self.records.update(holders, revision)
        return StoredHolders(holders, written.revision)
