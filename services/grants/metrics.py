"""Grants' own series: active grants, approved -> applied latency, expiry lateness."""

from __future__ import annotations

from collections import Counter as Tally
from datetime import datetime

from prometheus_client import Gauge, Histogram

from services.grants.domain.records import GrantRecord, GrantStatus
from services.grants.ports import GrantStore
from shared.contracts.subjects import Subject
from shared.persistence.outbox import OutboxEntry

# The attribute is on the device in these states (an extension, revoke or expiry in
# flight has not removed it yet).
HOLDING = frozenset(
    {GrantStatus.ACTIVE, GrantStatus.EXTENDING, GrantStatus.REVOKING, GrantStatus.EXPIRING}
)

ACTIVE_GRANTS = Gauge(
    "accessbot_active_grants",
    "Grants whose attribute is on a device, by profile (from KV `grants`).",
    ["profile"],
)
APPROVED_TO_APPLIED = Histogram(
    "accessbot_grant_approved_to_applied_seconds",
    "From approvals approving a request to grants announcing the attribute set.",
    buckets=(0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0),
)
EXPIRY_LATENESS = Histogram(
    "accessbot_grant_expiry_lateness_seconds",
    "How long after a grant's scheduled end grants had removed the attribute.",
    buckets=(0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 900.0),
)


def count_active(records: list[GrantRecord]) -> Tally[str]:
    """Grants holding their attribute, by profile."""
    return Tally(r.profile_id for r in records if r.status in HOLDING)


async def refresh_active(store: GrantStore) -> None:
    """Set the active-grants gauge from the bucket (a profile with none reads 0 or vanishes)."""
    counts = count_active([stored.record for stored in await store.all()])
    ACTIVE_GRANTS.clear()
    for profile, count in counts.items():
        ACTIVE_GRANTS.labels(profile).set(count)


def announced(record: GrantRecord, entry: OutboxEntry) -> None:
    """Observe the latencies an outcome event closes (read from the stored body, as published)."""
    if entry.subject is Subject.GRANT_APPLIED and record.approved_at is not None:
        applied_at = datetime.fromisoformat(entry.body["applied_at"])
        APPROVED_TO_APPLIED.observe(max(0.0, (applied_at - record.approved_at).total_seconds()))
    elif entry.subject is Subject.GRANT_EXPIRED:
        expired_at = datetime.fromisoformat(entry.body["expired_at"])
        EXPIRY_LATENESS.observe(max(0.0, (expired_at - record.expires_at).total_seconds()))
