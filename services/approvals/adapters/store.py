"""Request records in KV `requests` (key = request id), daily auto-approval budgets in
KV `auto_approvals` and (profile, device) claims in KV `device_claims`, through the shared
persistence kit."""

from __future__ import annotations

from nats.js.kv import KeyValue

from services.approvals.domain.budget import BudgetRecord
from services.approvals.domain.record import RequestRecord
from shared.device_claims import DeviceClaim
from shared.persistence.kv_store import KvStore
from shared.persistence.versioned import model_codec

CODEC = model_codec(RequestRecord, lambda record: record.request_id)
BUDGET_CODEC = model_codec(BudgetRecord, lambda record: record.key)
CLAIM_CODEC = model_codec(DeviceClaim, lambda claim: claim.key)


def request_store(kv: KeyValue) -> KvStore[RequestRecord]:
    """The request records of bucket `kv` (creates and updates by compare-and-set)."""
    return KvStore(kv, CODEC)


def budget_store(kv: KeyValue) -> KvStore[BudgetRecord]:
    """The daily auto-approval budgets of bucket `kv` (claimed by compare-and-set)."""
    return KvStore(kv, BUDGET_CODEC)


def claim_store(kv: KeyValue) -> KvStore[DeviceClaim]:
    """The (profile, device) claims of bucket `kv` (taken and followed by compare-and-set)."""
    return KvStore(kv, CLAIM_CODEC)
