"""Posting each dead-letter announcement once to the request's profile audit channels.

The slot of each post is remembered in the request's record, so a redelivered
announcement posts nothing twice. The profile comes from the event, else from what
the notifier already knows about the request.
"""

from __future__ import annotations

from collections.abc import Callable

import structlog

from services.notifier.deadletter_notice import deadletter_message
from services.notifier.record import MessageRef, NotifierRecord
from services.notifier.slack_errors import Failure
from services.notifier.slack_gateway import DeliveryError, SlackGateway
from services.notifier.store import RecordStore
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import DeliveryDeadLettered
from shared.profiles import ProfilesConfig

log = structlog.get_logger("accessbot.notifier")


def _with_ref(slot: str, ref: MessageRef) -> Callable[[NotifierRecord], NotifierRecord]:
    return lambda record: record.with_ref(slot, ref)


def deadletter_slot(channel: str, event_id: str) -> str:
    """One announcement in one channel."""
    return f"deadletter:{channel}:{event_id}"


class DeadLetterNotices:
    """Handles `access.delivery.deadlettered`."""

    def __init__(
        self, *, store: RecordStore, slack: SlackGateway, profiles: ProfilesConfig
    ) -> None:
        self._store = store
        self._slack = slack
        self._profiles = profiles

    async def handle(self, envelope: Envelope[DeliveryDeadLettered]) -> None:
        """Post the announcement to each audit channel that does not have it yet."""
        event, event_id = envelope.event, envelope.meta.id
        current = await self._store.load(event.request_id)
        profile_id = event.profile_id or current.record.view.profile_id
        profile = self._profiles.get(profile_id) if profile_id else None
        if profile is None or not profile.notify_channels:
            log.warning("deadletter.no_audit_channel", profile_id=profile_id)
            return
        message = deadletter_message(event)
        for channel in profile.notify_channels:
            slot = deadletter_slot(channel, event_id)
            if slot in current.record.messages:
                continue
            try:
                posted_channel, ts = await self._slack.post(channel, message, None)
            except DeliveryError as exc:
                if exc.failure is Failure.TRANSIENT:
                    raise
                log.error("slack.deadletter_notice_refused", channel=channel, error=exc.error)
                continue
            ref = MessageRef(channel=posted_channel, ts=ts, digest=message.digest())
            current = await self._store.change(current, _with_ref(slot, ref))
            log.info("slack.posted", slot=slot, channel=channel, ts=ts)
