"""What the emulator saw: records of messages, API calls, acks and violations, in order."""

from __future__ import annotations

import asyncio
import copy
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal, TypeVar

T = TypeVar("T")

Transport = Literal["socket", "http"]

# Why an interaction was not acknowledged in time; Slack then shows the person an error.
UserErrorReason = Literal["timeout", "no_connection", "http_error", "connection_failed"]

# Roughly what Slack's client shows; the exact wording is Slack's and may change.
USER_ERROR_TEXT: dict[UserErrorReason, str] = {
    "timeout": "Operation timed out. Apps need to respond within 3 seconds.",
    "no_connection": "This app is not responding (no Socket Mode connection).",
    "http_error": "This app responded with an error status code.",
    "connection_failed": "This app could not be reached.",
}


@dataclass
class PostedMessage:
    """A message as stored in a channel; `updates` holds each chat.update applied to it."""

    ts: str
    channel: str
    user: str
    text: str
    blocks: list[dict[str, Any]]
    thread_ts: str | None = None
    updates: list[dict[str, Any]] = field(default_factory=list)
    is_ephemeral: bool = False
    for_user: str | None = None
    bot_id: str | None = None
    app_id: str | None = None
    deleted: bool = False
    via: str = "chat.postMessage"

    def to_slack(self, team_id: str) -> dict[str, Any]:
        """The message object Slack returns (postMessage `message`, block_actions `message`)."""
        message: dict[str, Any] = {
            "type": "message",
            "user": self.user,
            "text": self.text,
            "ts": self.ts,
            "team": team_id,
        }
        if self.blocks:
            message["blocks"] = copy.deepcopy(self.blocks)
        if self.bot_id:
            message["bot_id"] = self.bot_id
            message["app_id"] = self.app_id
        if self.thread_ts:
            message["thread_ts"] = self.thread_ts
        if self.updates:
            message["edited"] = {"user": self.user, "ts": self.updates[-1]["edited_ts"]}
        return message

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ApiCall:
    """One Web API call; `params` never contains a token."""

    method: str
    params: dict[str, Any]
    ok: bool
    error: str | None
    status: int
    time: float
    duration: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AckRecord:
    """One interaction delivered to the app and how (or whether) it was acknowledged."""

    envelope_id: str
    payload_type: str
    ack: dict[str, Any] | None
    acked: bool
    latency: float | None
    transport: Transport
    http_status: int | None
    time: float
    forged: str | None = None
    user_error: UserErrorReason | None = None  # set when not acknowledged in time

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class UserError:
    """An error Slack showed a person because the app did not answer their interaction.

    Slack does not re-send interactions: the click or submission is lost, and the person
    has to try again.
    """

    user_id: str
    payload_type: str
    reason: UserErrorReason
    text: str
    envelope_id: str
    time: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Violation:
    """Something the app did that real Slack would reject or show the user as an error."""

    kind: str
    detail: str
    time: float

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class Recorder:
    """Keeps every record and a merged timeline, and wakes up anyone waiting for a change."""

    def __init__(self) -> None:
        self.api_calls: list[ApiCall] = []
        self.acks: list[AckRecord] = []
        self.violations: list[Violation] = []
        self.user_errors: list[UserError] = []
        self.timeline: list[dict[str, Any]] = []
        self._waiters: list[asyncio.Future[None]] = []

    def event(self, kind: str, **fields: Any) -> None:
        entry: dict[str, Any] = {"seq": len(self.timeline) + 1, "time": time.time(), "kind": kind}
        entry.update(fields)
        self.timeline.append(entry)
        self._wake()

    def api_call(self, call: ApiCall) -> None:
        self.api_calls.append(call)
        self.event("api_call", method=call.method, ok=call.ok, error=call.error, status=call.status)

    def ack(self, record: AckRecord) -> None:
        self.acks.append(record)
        self.event(
            "ack",
            envelope_id=record.envelope_id,
            payload_type=record.payload_type,
            acked=record.acked,
            ack=record.ack,
            latency=record.latency,
            transport=record.transport,
        )

    def user_error(self, user_id: str, record: AckRecord) -> UserError:
        reason = record.user_error or "timeout"
        shown = UserError(
            user_id=user_id,
            payload_type=record.payload_type,
            reason=reason,
            text=USER_ERROR_TEXT[reason],
            envelope_id=record.envelope_id,
            time=time.time(),
        )
        self.user_errors.append(shown)
        self.event(
            "user_error",
            user=user_id,
            payload_type=record.payload_type,
            reason=reason,
            text=shown.text,
        )
        return shown

    def violation(self, kind: str, detail: str) -> Violation:
        found = Violation(kind=kind, detail=detail, time=time.time())
        self.violations.append(found)
        self.event("violation", violation=kind, detail=detail)
        return found

    def _wake(self) -> None:
        waiters, self._waiters = self._waiters, []
        for waiter in waiters:
            if not waiter.done():
                waiter.set_result(None)

    async def wait_for(self, predicate: Callable[[], T | None], timeout: float) -> T:
        """Return the first truthy `predicate()`, re-checked after every recorded change."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:
            result = predicate()
            if result:
                return result
            remaining = deadline - loop.time()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            waiter: asyncio.Future[None] = loop.create_future()
            self._waiters.append(waiter)
            try:
                await asyncio.wait_for(waiter, remaining)
            except TimeoutError:
                continue
