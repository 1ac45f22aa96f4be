"""Expire what fell due while its timer was out of reach (at start and on NATS reconnect).

A due timer delivered to a process that died, or to a pull request lost with a
restarting nats-server, is redelivered only after the consumer's ack wait (30 s).
The records say what is due; each is handled through the same entry as its timer,
which changes nothing when the timer came first.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

import structlog

from services.approvals.domain.record import RequestRecord
from services.approvals.ports import RequestStore
from shared.contracts.subjects import TimerPurpose
from shared.timers import TimerFired

log = structlog.get_logger("accessbot.approvals.expiry_sweep")


def due_timers(records: list[RequestRecord], *, now: datetime) -> list[TimerFired]:
    """The request timer each record past its next deadline (reminder, escalation or
    expiry) would have fired."""
    due: list[TimerFired] = []
    for record in records:
        at = record.next_timer()
        if at is not None and at <= now:
            fired = TimerFired(
                request_id=record.request_id,
                purpose=TimerPurpose.REQUEST_EXPIRY,
                due_at=at,
                generation=len(record.extensions),
            )
            due.append(fired)
    return due


async def expire_due(
    store: RequestStore,
    on_timer: Callable[[TimerFired], Awaitable[None]],
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Hand every due request-expiry to `on_timer` (their timers remain the fallback)."""
    try:
        records = [stored.record for stored in await store.all()]
    except Exception as exc:  # noqa: BLE001 - e.g. the connection dropped again
        log.warning("expiry_sweep.failed", error=str(exc))
        return
    due = due_timers(records, now=now())
    if due:
        log.info("expiry_sweep.due", requests=len(due))
    for fired in due:
        try:
            await on_timer(fired)
        except Exception as exc:  # noqa: BLE001 - its timer is still there to retry
            log.warning("expiry_sweep.request_failed", request_id=fired.request_id, error=str(exc))
