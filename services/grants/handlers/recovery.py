"""At start-up, finish what a previous process left unfinished.

A process killed between calling Tailscale and announcing the outcome leaves a
record with an operation in flight (or events in its outbox). Its message would
come back after the consumer's ack wait anyway; this sweep finishes it as soon
as the dead owner's lease runs out, so a restart settles quickly.

Expiry is re-checked from the records too (`expire_due`), at start and whenever
the NATS connection comes back: a due timer delivered to a process that died, or
lost with a restarting nats-server, is otherwise redelivered only after the
consumer's ack wait (30 s). The records say which grants are due; the timer stays
the normal path and a repeated expiry changes nothing. (A pull request lost with
the server is replaced when its fetch times out, 5 s after the disconnect, so a
timer firing after the restart is delivered within that bound.)
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime

import structlog

from services.grants.domain.records import GrantStatus
from services.grants.handlers.operations import GrantBusyError
from services.grants.handlers.workflow import GrantWorkflow
from services.grants.ports import GrantStore, Stored
from shared.contracts.subjects import TimerPurpose
from shared.timers import TimerFired

log = structlog.get_logger("accessbot.grants.recovery")

MAX_ROUNDS = 5
MIN_WAIT_SECONDS = 0.2


async def unfinished(store: GrantStore, *, before: datetime) -> list[str]:
    """Request ids whose record, last changed before `before`, has work left.

    Records changed since are in live hands (this process's handlers or another
    replica's), which their leases protect; the sweep leaves those alone.
    """
    return [
        stored.record.request_id
        for stored in await store.all()
        if stored.record.updated_at < before
        and (stored.record.op is not None or stored.record.outbox or stored.record.timer_pending)
    ]


async def resume_unfinished(
    store: GrantStore,
    workflow: GrantWorkflow,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Resume each unfinished grant, waiting for leases of dead owners to run out."""
    todo = await unfinished(store, before=now())
    if todo:
        log.info("recovery.found", grants=len(todo))
    for _ in range(MAX_ROUNDS):
        if not todo:
            return
        retry: list[str] = []
        wake: datetime | None = None
        for request_id in todo:
            try:
                await workflow.resume(request_id)
            except GrantBusyError as exc:
                retry.append(request_id)
                if exc.retry_at is not None:
                    wake = exc.retry_at if wake is None else min(wake, exc.retry_at)
            except Exception as exc:  # noqa: BLE001 - its message will be redelivered anyway
                log.warning("recovery.failed", request_id=request_id, error=str(exc))
        todo = retry
        if todo:
            delay = (wake - now()).total_seconds() if wake is not None else 1.0
            await asyncio.sleep(max(MIN_WAIT_SECONDS, delay))
    if todo:
        log.info("recovery.left_to_redelivery", grants=len(todo))


def due_timers(records: list[Stored], *, now: datetime) -> list[TimerFired]:
    """The expiry timer each active grant past its end would have fired."""
    return [
        TimerFired(
            request_id=r.request_id,
            purpose=TimerPurpose.GRANT_EXPIRY,
            due_at=r.expires_at,
            generation=r.generation,
        )
        for r in (stored.record for stored in records)
        if r.status is GrantStatus.ACTIVE and r.op is None and r.expires_at <= now
    ]


async def expire_due(
    store: GrantStore,
    workflow: GrantWorkflow,
    *,
    now: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> None:
    """Expire every active grant whose end has passed (their timers remain the fallback)."""
    try:
        due = due_timers(await store.all(), now=now())
    except Exception as exc:  # noqa: BLE001 - e.g. the connection dropped again
        log.warning("recovery.expiry_sweep_failed", error=str(exc))
        return
    if due:
        log.info("recovery.expiry_due", grants=len(due))
    for fired in due:
        try:
            await workflow.on_expiry_timer(fired)
        except Exception as exc:  # noqa: BLE001 - its timer is still there to retry
            log.warning("recovery.expiry_failed", request_id=fired.request_id, error=str(exc))
