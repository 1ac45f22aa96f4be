"""The App Home tab: keep each person's index of requests, and publish their Home from it.

`note` adds a request to the index of everyone its view touches (after the notifier
handled an event about it) and queues a republish of each of those whose Home was
published before; `publish` builds a person's Home from the records of the requests in
their index and sends it with views.publish. A publish Slack refuses for good (the Home
tab switched off, a user Slack does not know, a view it will not take) is logged and
skipped; an error that may pass propagates, so an opening's message is redelivered.

Republishing coalesces bursts: a person touched again while queued is not queued twice,
and the queue is published RefreshQueue.delay seconds after its first entry, so one
burst of events (a quorum of approvals, an approval followed by its grant) costs one
views.publish per person. The queue holds at most `max_pending` people; past that a
person is left out (logged): their Home is published again when they open it, or on
the next change. A republish that fails is logged, not retried, for the same reason.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Collection

import structlog

from services.notifier.domain.context import NotifyContext
from services.notifier.domain.home import home_view
from services.notifier.domain.home_index import touched
from services.notifier.domain.request_view import RequestView
from services.notifier.domain.slack_errors import Failure
from services.notifier.ports import DeliveryError, HomeIndexes, Records, Slack
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import Person, PublishHome

log = structlog.get_logger("accessbot.notifier.home")

REFRESH_DELAY_SECONDS = 0.5
MAX_PENDING_HOMES = 1_000


class HomePublisher:
    """Handles `access.home.requested`, keeps the indexes the Homes are built from, and
    republishes the Homes a change touches (coalesced)."""

    def __init__(
        self,
        *,
        records: Records,
        indexes: HomeIndexes,
        slack: Slack,
        contexts: Callable[[RequestView], NotifyContext],
        delay: float = REFRESH_DELAY_SECONDS,
        max_pending: int = MAX_PENDING_HOMES,
    ) -> None:
        self._records = records
        self._indexes = indexes
        self._slack = slack
        self._contexts = contexts
        self._delay = delay
        self._max_pending = max_pending
        self._pending: dict[str, Person] = {}
        self._flush: asyncio.Task[None] | None = None
        self._flushing = asyncio.Lock()  # one batch at a time: a newer one never overtaken
        self.dropped = 0

    async def handle(self, envelope: Envelope[PublishHome]) -> None:
        """Someone opened the Home tab: publish it as it stands now."""
        await self.publish(envelope.event.person)

    async def note(self, view: RequestView, indexed: Collection[str] = ()) -> list[str]:
        """Index the request for everyone it touches who is not in `indexed` yet, and queue
        a republish of each Home published before; the people newly indexed (emails)."""
        added = []
        for who in touched(view):
            if who.email in indexed:
                published = await self._indexes.published(who.email)
            else:
                published = await self._indexes.add(who.email, view.request_id)
                added.append(who.email)
            if published:
                self._queue(who)
        return added

    @property
    def pending(self) -> int:
        """People queued for a republish now."""
        return len(self._pending)

    def _queue(self, who: Person) -> None:
        if who.email in self._pending:
            return  # coalesced: published once with this burst
        if len(self._pending) >= self._max_pending:
            self.dropped += 1
            log.warning("home.refresh_dropped", person=who.email, pending=len(self._pending))
            return
        self._pending[who.email] = who
        if self._flush is None:
            self._flush = asyncio.create_task(self._flush_later(), name="notifier-home-refresh")

    async def _flush_later(self) -> None:
        await asyncio.sleep(self._delay)
        async with self._flushing:
            batch, self._pending, self._flush = self._pending, {}, None
            for who in batch.values():
                try:
                    await self.publish(who)
                except Exception as exc:  # noqa: BLE001 - the next opening or change repairs it
                    log.warning("home.refresh_failed", person=who.email, error=repr(exc))

    async def idle(self) -> None:
        """Wait until every queued republish is done (tests, shutdown)."""
        while self._flush is not None:
            await asyncio.shield(self._flush)
        async with self._flushing:
            return

    async def close(self) -> None:
        """Stop: what is queued is dropped (each Home is published again when opened)."""
        task = self._flush
        if task is None:
            return
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        self._flush = None

    async def publish(self, who: Person) -> None:
        """Build the person's Home from their indexed requests' records and publish it."""
        views = []
        shown = await self._indexes.request_ids(who.email)
        for request_id in shown:
            read = await self._records.load(request_id)
            if read.revision is not None:
                views.append(read.record.view)
        home = home_view(who.email, views, self._contexts)
        try:
            await self._slack.publish_home(who, home)
        except DeliveryError as exc:
            if exc.failure is Failure.TRANSIENT:
                raise
            log.warning("slack.home_refused", person=who.email, error=exc.error)
            return
        now = await self._indexes.mark_published(who.email)
        log.info("slack.home_published", person=who.email, requests=len(views))
        if now is not None and now != shown:
            # The first publish raced a change: `note` added a request after the index was
            # read here but before it was marked published, so it queued no republish.
            self._queue(who)
