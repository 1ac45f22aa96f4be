"""The App Home tab: someone opened it, so the notifier is asked to publish it.

Intake holds no state: the notifier folds every request's events, keeps each person's
index of requests and publishes the Home (views.publish). Intake acks Slack at once and
publishes `PublishHome`; its id derives from Slack's event id, so an event Slack sends
again (its Events API retries) is dropped by JetStream's duplicate window.
"""

from __future__ import annotations

import structlog

from services.intake.domain.interactions import HomeOpened
from services.intake.handlers.handling import Handle, action_time
from shared.contracts.events import PublishHome
from shared.ids import deterministic_id

log = structlog.get_logger("accessbot.intake")

HOME_TAB = "home"
# Opening the Home is not a click to record: a publish that waits long helps nobody
# (the person sees the Home published last, and the next opening asks again).
HOME_PATIENCE_SECONDS = 2.0


class HomeFlow:
    """Handles `app_home_opened`."""

    async def opened(self, opened: HomeOpened, handle: Handle) -> None:
        """Ack at once; for the Home tab (not Messages) ask the notifier to publish it."""
        await handle.ack(None)
        if opened.tab != HOME_TAB:
            handle.trace.outcome = "not_home_tab"
            return
        try:
            person = await handle.deps.people.person(opened.user_id)
        except Exception as exc:  # noqa: BLE001 - Slack unreachable: the next opening asks again
            log.warning("intake.home_identity_failed", error=repr(exc))
            handle.trace.outcome = "no_identity"
            return
        if person is None:
            handle.trace.outcome = "no_identity"
            return
        key = f"home:{opened.event_id or opened.user_id + ':' + opened.event_ts}"
        moment = action_time(opened.event_ts)
        command_id = deterministic_id(moment, key)
        handle.trace.bind(command_id)
        try:
            await handle.publish(
                PublishHome(request_id=command_id, person=person),
                key=key,
                moment=moment,
                patience=HOME_PATIENCE_SECONDS,
            )
        except Exception as exc:  # noqa: BLE001 - the Home stays as published last
            log.warning("intake.home_not_requested", error=repr(exc))
            handle.trace.outcome = "publish_failed"
