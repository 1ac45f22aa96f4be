"""The notifier's only contact with Slack: open DMs, post and update messages.

Rate limits (HTTP 429) are retried by slack_sdk's AsyncRateLimitErrorRetryHandler, which
sleeps for Retry-After (see bootstrap); what still fails surfaces here as a
`DeliveryError` classified by `slack_errors.classify`. Posts and updates go through
`shared.slack_web.JsonCalls` (the client's session, retry handlers and error types, with
the blocks' JSON built once per message), everything else through the client itself.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable
from typing import Any

import structlog
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from services.notifier.domain.home import HomeView
from services.notifier.domain.slack_message import SlackMessage
from services.notifier.ports import DeliveryError
from shared.contracts.events import Person
from shared.slack_web import JsonCalls

log = structlog.get_logger("accessbot.notifier.slack")

DM_CACHE_SIZE = 10_000


def _error_of(exc: SlackApiError) -> str:
    data: Any = exc.response.data if exc.response is not None else None
    if isinstance(data, dict) and isinstance(data.get("error"), str):
        return str(data["error"])
    return "unknown_error"


class SlackGateway:
    """Slack Web API calls, with errors turned into `DeliveryError`s."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        # Posts and updates: their JSON bodies built from each message's blocks,
        # serialised once (shared.slack_web.JsonCalls; same retries and errors).
        self._json = JsonCalls(client)
        # email -> DM channel id; a person's DM with the bot never changes.
        self._dm_channels: dict[str, str] = {}
        self._authenticated = False

    async def authenticate(self) -> bool:
        """Check the token once at start (auth.test); readiness reports the result."""
        try:
            response = await self._client.auth_test()
        except SlackApiError as exc:
            log.error("slack.auth_failed", error=_error_of(exc))
            self._authenticated = False
        else:
            log.info("slack.authenticated", team=response.get("team"), bot=response.get("user"))
            self._authenticated = True
        return self._authenticated

    async def is_authenticated(self) -> bool:
        """Ready check: the token works (asks Slack again until it once did)."""
        return self._authenticated or await self.authenticate()

    async def _user_id(self, who: Person) -> str:
        """Their Slack id, or one looked up by email."""
        if who.slack_user_id is not None:
            return who.slack_user_id
        found = await self._call(
            "users.lookupByEmail", self._client.users_lookupByEmail(email=who.email)
        )
        return str(found["user"]["id"])

    async def publish_home(self, who: Person, home: HomeView) -> None:
        """views.publish: the person's Home tab, replaced whole (no hash: the newest wins)."""
        user_id = await self._user_id(who)
        await self._call(
            "views.publish", self._client.views_publish(user_id=user_id, view=home.as_json())
        )

    async def dm_channel(self, who: Person) -> str:
        """The bot's DM with a person: their Slack id (or one looked up by email), opened."""
        key = who.email
        cached = self._dm_channels.get(key)
        if cached is not None:
            return cached
        user_id = await self._user_id(who)
        opened = await self._call(
            "conversations.open", self._client.conversations_open(users=user_id)
        )
        channel = str(opened["channel"]["id"])
        if len(self._dm_channels) >= DM_CACHE_SIZE:
            self._dm_channels.clear()
        self._dm_channels[key] = channel
        return channel

    async def post(
        self, channel: str, message: SlackMessage, thread_ts: str | None
    ) -> tuple[str, str]:
        """Post a message (a thread reply when `thread_ts` is set).

        Returns the conversation id and ts Slack answered: chat.update needs that id
        (a DM's D...), which is not always what was posted to (a user id, say).
        """
        thread = "" if thread_ts is None else f',"thread_ts":{json.dumps(thread_ts)}'
        response = await self._call(
            "chat.postMessage",
            self._json.call(
                "chat.postMessage",
                f'{{"channel":{json.dumps(channel)},"text":{json.dumps(message.text)},'
                f'"blocks":{message.blocks_text()}{thread},'
                '"unfurl_links":false,"unfurl_media":false}',
            ),
        )
        return str(response.get("channel") or channel), str(response["ts"])

    async def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        """Replace what a posted message shows."""
        await self._call(
            "chat.update",
            self._json.call(
                "chat.update",
                f'{{"channel":{json.dumps(channel)},"ts":{json.dumps(ts)},'
                f'"text":{json.dumps(message.text)},"blocks":{message.blocks_text()}}}',
            ),
        )

    @staticmethod
    async def _call(method: str, call: Awaitable[AsyncSlackResponse]) -> AsyncSlackResponse:
        try:
            return await call
        except SlackApiError as exc:
            raise DeliveryError(method, _error_of(exc)) from None
