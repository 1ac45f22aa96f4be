"""KV `grants`: grant records by request id and holders records by pair, through the
shared persistence kit (one bucket, two kinds of key)."""

from __future__ import annotations

from nats.js.kv import KeyValue

from services.grants.domain.holders import AttributeHolders, holders_key, is_holders_key
from services.grants.domain.records import GrantRecord
from services.grants.handlers.holders_store import HoldersStore
from shared.persistence.kv_store import KvStore
from shared.persistence.versioned import model_codec

GRANT_CODEC = model_codec(GrantRecord, lambda record: record.request_id)
HOLDERS_CODEC = model_codec(
    AttributeHolders, lambda holders: holders_key(holders.device_id, holders.attribute)
)


def grant_store(kv: KeyValue) -> KvStore[GrantRecord]:
    """The grant records of bucket `kv` (holders records are shared state, left out of `all`)."""
    return KvStore(kv, GRANT_CODEC, include=lambda key: not is_holders_key(key))


def holders_store(kv: KeyValue) -> HoldersStore:
    """The holders records of bucket `kv`."""
    return HoldersStore(KvStore(kv, HOLDERS_CODEC, include=is_holders_key))
