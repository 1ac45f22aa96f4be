"""Approvals' own series: requests waiting for a decision."""

from __future__ import annotations

from collections import Counter as Tally

from prometheus_client import Gauge

from services.approvals.domain.record import RequestRecord, RequestStatus
from services.approvals.ports import RequestStore

PENDING_REQUESTS = Gauge(
    "accessbot_pending_requests",
    "Requests waiting for a decision, by profile (from KV `requests`).",
    ["profile"],
)


def count_pending(records: list[RequestRecord]) -> Tally[str]:
    """Pending requests, by profile."""
    return Tally(r.profile_id for r in records if r.status is RequestStatus.PENDING)


async def refresh_pending(store: RequestStore) -> None:
    """Set the pending-requests gauge from the bucket."""
    counts = count_pending([stored.record for stored in await store.all()])
    PENDING_REQUESTS.clear()
    for profile, count in counts.items():
        PENDING_REQUESTS.labels(profile).set(count)
