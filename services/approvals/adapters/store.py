"""Request records in KV `requests` (key = request id), through the shared persistence kit."""

from __future__ import annotations

from nats.js.kv import KeyValue

from services.approvals.domain.record import RequestRecord
from shared.persistence.kv_store import KvStore
from shared.persistence.versioned import model_codec

CODEC = model_codec(RequestRecord, lambda record: record.request_id)


def request_store(kv: KeyValue) -> KvStore[RequestRecord]:
    """The request records of bucket `kv` (creates and updates by compare-and-set)."""
    return KvStore(kv, CODEC)
