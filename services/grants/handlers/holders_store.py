"""Holders records read and written through the store port: an absent one reads as empty."""

from __future__ import annotations

from dataclasses import dataclass

from services.grants.domain.holders import AttributeHolders, holders_key
from shared.persistence.versioned import VersionedStore


@dataclass(frozen=True, slots=True)
class StoredHolders:
    """A holders record and the revision it was read (or written) at; 0: not stored yet."""

    holders: AttributeHolders
    revision: int


class HoldersStore:
    """Holders records (`domain.holders`), an absent one read as empty at revision 0."""

    def __init__(self, store: VersionedStore[AttributeHolders]) -> None:
        self.records = store

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
