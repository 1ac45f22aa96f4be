"""The ACCESS stream as the SIEM reads it, kept (bounded) for the events pane."""

from __future__ import annotations

import asyncio
import json
import logging
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import nats
from nats.aio.client import Client
from nats.errors import Error as NatsError
from nats.js.errors import NotFoundError
from pydantic import SecretStr

from accessbot.audit import tail
from shared.contracts.subjects import ACCESS_STREAM

MAX_EVENTS = 1000  # the oldest are dropped from the console (never from the stream)
RETRY_SECONDS = 2.0
NOT_YET = "no ACCESS stream yet: the services create it as they start; retrying"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NatsLogin:
    """Whom the console connects to NATS as."""

    url: str
    user: str
    password: SecretStr


class EventFeed:
    """Collects CloudEvents JSON lines that `accessbot.audit.tail` writes, numbered."""

    def __init__(self, limit: int = MAX_EVENTS) -> None:
        self._events: deque[dict[str, Any]] = deque(maxlen=limit)
        self._count = 0
        self.invalid: list[str] = []
        self.error: str | None = None

    # The TextIO that audit.tail writes to.
    def write(self, text: str) -> int:
        for line in text.splitlines():
            if line.strip():
                self.add(json.loads(line))
        return len(text)

    def flush(self) -> None:
        """Nothing buffered."""

    def add(self, event: dict[str, Any]) -> None:
        """Append an event; one already held (re-read after a reconnect) is skipped."""
        if any(e["event"].get("id") == event.get("id") for e in self._events):
            return
        self._count += 1
        self._events.append({"n": self._count, "event": event})

    def after(self, n: int) -> list[dict[str, Any]]:
        """Events numbered above `n`, oldest first."""
        return [e for e in self._events if e["n"] > n]


class _ErrorSink:
    """audit.tail reports invalid messages here (never skipped silently)."""

    def __init__(self, feed: EventFeed) -> None:
        self._feed = feed

    def write(self, text: str) -> int:
        if text.strip():
            self._feed.invalid = [*self._feed.invalid[-19:], text.strip()]
        return len(text)

    def flush(self) -> None:
        """Nothing buffered."""


async def follow(feed: EventFeed, login: NatsLogin, stop: asyncio.Event) -> None:
    """Read ACCESS from its first event until `stop`; reconnects after failures."""
    since = datetime(1970, 1, 1, tzinfo=UTC)
    while not stop.is_set():
        try:
            nc = await nats.connect(
                servers=[login.url],
                user=login.user,
                password=login.password.get_secret_value(),
                name="accessbot-console",
                max_reconnect_attempts=3,
            )
        except (NatsError, OSError) as exc:
            feed.error = f"cannot read the ACCESS stream: {exc}; retrying"
            await _pause(stop)
            continue
        try:
            if not await _stream_there(nc):  # at start-up: the services create it
                feed.error = NOT_YET
                log.info("%s", feed.error)
                await _pause(stop)
                continue
            feed.error = None  # there to read: an earlier problem is over
            await tail(nc, since=since, stop=stop.is_set, out=feed, err=_ErrorSink(feed))  # type: ignore[arg-type]
        except (NatsError, OSError) as exc:
            feed.error = f"reading the ACCESS stream failed: {exc}; retrying"
            log.info("%s", feed.error)
            await _pause(stop)
        finally:
            await nc.close()
        held = feed.after(0)
        if held:  # go on from the newest event held (add() skips it when re-read)
            since = datetime.fromisoformat(str(held[-1]["event"]["time"]).replace("Z", "+00:00"))


async def _stream_there(nc: Client) -> bool:
    """Whether ACCESS exists (as this login sees it)."""
    try:
        await nc.jetstream().stream_info(ACCESS_STREAM)
    except NotFoundError:
        return False
    return True


async def _pause(stop: asyncio.Event) -> None:
    try:
        await asyncio.wait_for(stop.wait(), RETRY_SECONDS)
    except TimeoutError:
        return
