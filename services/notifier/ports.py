"""What the notifier's handlers need from outside, as protocols (the adapters implement them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

from services.notifier.domain.home import HomeView
from services.notifier.domain.record import NotifierRecord
from services.notifier.domain.slack_errors import classify
from services.notifier.domain.slack_message import SlackMessage
from shared.contracts.events import Person


@dataclass(frozen=True, slots=True)
class ReadRecord:
    """A record and the KV revision it was read at (None: not stored yet)."""

    request_id: str
    record: NotifierRecord
    revision: int | None


class Records(Protocol):
    """Notifier records by request id, changed by compare-and-set (adapters.store.RecordStore)."""

    async def load(self, request_id: str) -> ReadRecord:
        """The stored record, or a new empty one."""
        ...

    async def change(
        self, current: ReadRecord, change: Callable[[NotifierRecord], NotifierRecord]
    ) -> ReadRecord:
        """Apply `change` at the revision read; on conflict re-read and re-apply."""
        ...


class DeliveryError(Exception):
    """Slack answered `ok: false` (after the SDK's own retries)."""

    def __init__(self, method: str, error: str) -> None:
        super().__init__(f"{method}: {error}")
        self.method = method
        self.error = error
        self.failure = classify(error)


class Slack(Protocol):
    """The Slack Web API calls the notifier makes (adapters.slack_gateway.SlackGateway)."""

    async def dm_channel(self, who: Person) -> str:
        """The DM conversation with `who` (DeliveryError when Slack refuses)."""
        ...

    async def post(
        self, channel: str, message: SlackMessage, thread_ts: str | None
    ) -> tuple[str, str]:
        """Post a message; the conversation id and ts Slack answered."""
        ...

    async def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        """Replace what a posted message shows."""
        ...

    async def publish_home(self, who: Person, home: HomeView) -> None:
        """views.publish: replace what `who` sees in the app's Home tab."""
        ...


class HomeIndexes(Protocol):
    """Each person's bounded index of requests (adapters.home_index.HomeIndexStore)."""

    async def request_ids(self, email: str) -> list[str]:
        """The requests the person's Home shows, oldest first."""
        ...

    async def add(self, email: str, request_id: str) -> bool:
        """Add a request to the person's index; True when their Home was published before."""
        ...

    async def mark_published(self, email: str) -> list[str] | None:
        """Note that the person's Home was published; the requests the index holds once
        noted (None when it was noted before)."""
        ...

    async def published(self, email: str) -> bool:
        """Whether the person's Home was published before (may be cached briefly)."""
        ...
