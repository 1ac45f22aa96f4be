"""What every interaction handler shares: its dependencies, its ack, its log line."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar

import structlog
from ulid import ULID

from services.intake.domain.device_index import DeviceIndex
from services.intake.domain.validation import FieldErrors
from services.intake.ports import Ack, AckBody, Groups, People, Publisher, Views
from shared.contracts.events import Command
from shared.ids import deterministic_id
from shared.profiles import ProfilesConfig
from shared.tracecontext import request_trace_id

T = TypeVar("T")

# Slack waits 3 s for an ack; work that must come before it (an identity lookup
# for a submission) gets at most this, so a slow Slack still gets a clear answer.
PRE_ACK_BUDGET_SECONDS = 2.0


async def within_budget(work: Awaitable[T]) -> T:
    """`work`, or TimeoutError once the pre-ack budget is spent."""
    return await asyncio.wait_for(work, PRE_ACK_BUDGET_SECONDS)


def id_time(ulid: str) -> datetime:
    """The moment a ULID was made (a stable moment for a deterministic event id)."""
    return ULID.from_str(ulid).datetime


def action_time(action_ts: str | None) -> datetime:
    """When Slack says a button was pressed (`action_ts`, seconds since the epoch)."""
    try:
        return datetime.fromtimestamp(float(action_ts or ""), UTC)
    except ValueError:
        return datetime.now(UTC)  # no usable action_ts: only the in-memory dedupe applies


@dataclass
class Deps:
    """The dispatcher's collaborators (built once NATS is connected: see bootstrap)."""

    profiles: ProfilesConfig
    devices: DeviceIndex
    people: People
    views: Views
    publisher: Publisher
    groups: Groups
    # The form's local times are rendered for this moment (injected so tests fix it).
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))


@dataclass
class Trace:
    """One interaction's canonical log line, filled in while it is handled."""

    kind: str
    name: str = ""
    user: str = ""
    outcome: str = "ignored"
    request_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def bind(self, request_id: str) -> None:
        """Every log line of this interaction carries the request id (and its trace id,
        which the events it publishes carry too) from here on."""
        self.request_id = request_id
        structlog.contextvars.bind_contextvars(
            request_id=request_id, trace_id=request_trace_id(request_id)
        )


class Acker:
    """Acks exactly once and remembers when and with what."""

    def __init__(self, ack: Ack, started: float, on_sent: Callable[[AckBody], None]) -> None:
        self._ack = ack
        self._started = started
        self._on_sent = on_sent
        self.sent = False
        self.body: AckBody = None
        self.ack_ms: float | None = None

    async def __call__(self, body: AckBody) -> None:
        if self.sent:
            return
        self.sent = True
        self.body = body
        self.ack_ms = round(1000 * (time.perf_counter() - self._started), 2)
        self._on_sent(body)
        await self._ack(body)


@dataclass
class Handle:
    """What a handler gets for one interaction."""

    deps: Deps
    trace: Trace
    ack: Acker

    async def reject(self, errors: FieldErrors, outcome: str = "invalid") -> None:
        """Keep the modal open with a message under each field concerned."""
        self.trace.outcome = outcome
        self.trace.details["fields"] = sorted(errors)
        await self.ack({"response_action": "errors", "errors": errors})

    async def publish(
        self, event: Command, *, key: str, moment: datetime, patience: float = 0.0
    ) -> None:
        """Publish with an event id derived from the interaction, so a repeat is dropped."""
        answer = await self.deps.publisher.publish(
            event, event_id=deterministic_id(moment, key), patience=patience
        )
        self.trace.outcome = "duplicate" if answer.duplicate else "published"
        self.trace.details["subject"] = event.SUBJECT.value
