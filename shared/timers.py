"""Timers as JetStream message schedules (ADR-51) in the TIMERS stream.

A schedule is a message on `timers.schedule.<purpose>.<request_id>` with
`Nats-Schedule: @at <RFC3339>`; when due the server publishes its body to
`timers.due.<purpose>.<request_id>`, which the owner consumes durably.
Re-publishing replaces the schedule (an extension moves the expiry); handlers
re-check state, so a late or repeated firing is harmless.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.subjects import (
    TIMERS_STREAM,
    TimerPurpose,
    timer_due_subject,
    timer_schedule_subject,
)
from shared.tracecontext import TRACEPARENT_HEADER, outgoing

SCHEDULE_HEADER = "Nats-Schedule"
TARGET_HEADER = "Nats-Schedule-Target"


class TimerFired(BaseModel):
    """The body of a schedule, delivered unchanged on the due subject."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = Field(default=1, description="Body schema version.")
    request_id: str = Field(description="The request the timer is about.")
    purpose: TimerPurpose = Field(description="What the timer is for.")
    due_at: AwareDatetime = Field(description="When it was scheduled to fire.")
    generation: int = Field(
        default=0,
        description="Bumped when the schedule is replaced (e.g. extension), so a stale "
        "firing can be told apart from the current one.",
    )


def rfc3339(moment: datetime) -> str:
    """UTC RFC 3339 with a `Z`, rounded UP to a whole second so a timer never fires early."""
    utc = moment.astimezone(UTC)
    if utc.microsecond:
        utc = utc.replace(microsecond=0) + timedelta(seconds=1)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ")


async def schedule(
    js: JetStreamContext,
    purpose: TimerPurpose,
    request_id: str,
    due_at: datetime,
    *,
    generation: int = 0,
    timeout: float = 5.0,
) -> None:
    """Schedule (or re-schedule) the timer for one request and purpose."""
    body = TimerFired(request_id=request_id, purpose=purpose, due_at=due_at, generation=generation)
    await js.publish(
        timer_schedule_subject(purpose, request_id),
        body.model_dump_json().encode(),
        timeout=timeout,
        stream=TIMERS_STREAM,
        headers={
            SCHEDULE_HEADER: f"@at {rfc3339(due_at)}",
            TARGET_HEADER: timer_due_subject(purpose, request_id),
            # The server copies it onto the fired message: the firing continues the trace.
            TRACEPARENT_HEADER: outgoing(request_id).traceparent,
        },
    )
