"""The App Home tab: keep each person's index of requests, and publish their Home from it.

`note` adds a request to the index of everyone its view touches (after the notifier
handled an event about it); `publish` builds a person's Home from the records of the
requests in their index and sends it with views.publish. A publish Slack refuses for
good (the Home tab switched off, a user Slack does not know, a view it will not take)
is logged and skipped; an error that may pass propagates, so the message is redelivered.
"""

from __future__ import annotations

from collections.abc import Callable

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


class HomePublisher:
    """Handles `access.home.requested`, and keeps the indexes the Homes are built from."""

    def __init__(
        self,
        *,
        records: Records,
        indexes: HomeIndexes,
        slack: Slack,
        contexts: Callable[[RequestView], NotifyContext],
    ) -> None:
        self._records = records
        self._indexes = indexes
        self._slack = slack
        self._contexts = contexts

    async def handle(self, envelope: Envelope[PublishHome]) -> None:
        """Someone opened the Home tab: publish it as it stands now."""
        await self.publish(envelope.event.person)

    async def note(self, view: RequestView) -> list[Person]:
        """Index the request for everyone it touches; those people, each once."""
        people = touched(view)
        for who in people:
            await self._indexes.add(who.email, view.request_id)
        return people

    async def publish(self, who: Person) -> None:
        """Build the person's Home from their indexed requests' records and publish it."""
        views = []
        for request_id in await self._indexes.request_ids(who.email):
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
        log.info("slack.home_published", person=who.email, requests=len(views))
