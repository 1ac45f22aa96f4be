"""The Slack Web API calls intake makes, through the official AsyncWebClient.

Translates Slack's answers into what the dispatcher needs: a user or None,
an update applied or superseded. Anything else raises SlackApiError.
"""

from __future__ import annotations

from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.models.views import View
from slack_sdk.web.async_client import AsyncWebClient

from services.intake.handlers.directory import SlackUser

_NO_SUCH_USER = frozenset({"user_not_found", "users_not_found"})
_VIEW_SUPERSEDED = frozenset({"hash_conflict", "not_found"})
_NO_SUCH_GROUP = "no_such_subteam"  # unknown, or disabled (include_disabled not set)
_MAX_TZ_OFFSET = 14 * 3600  # UTC-12 .. UTC+14 are the clocks people live by


def _error(exc: SlackApiError) -> str:
    return str(exc.response.get("error", ""))


def _slack_user(user: Any) -> SlackUser | None:
    if not isinstance(user, dict) or not isinstance(user.get("id"), str):
        return None
    found = user.get("profile")
    profile: dict[str, Any] = found if isinstance(found, dict) else {}
    email = profile.get("email")
    name = profile.get("real_name") or user.get("real_name") or user.get("name")
    return SlackUser(
        id=user["id"],
        email=email if isinstance(email, str) and email else None,
        name=name if isinstance(name, str) and name else None,
        deleted=bool(user.get("deleted")),
        is_bot=bool(user.get("is_bot")),
        tz_offset=_offset(user.get("tz_offset")),
    )


def _offset(value: Any) -> int | None:
    """users.info `tz_offset` (seconds east of UTC); None when absent or not a clock's."""
    if isinstance(value, bool) or not isinstance(value, int) or abs(value) > _MAX_TZ_OFFSET:
        return None
    return value


class SlackGateway:
    """Views, ephemeral notes and user lookups."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client

    async def open_view(self, trigger_id: str, view: View) -> str:
        """views.open; the new view's id."""
        response = await self._client.views_open(trigger_id=trigger_id, view=view)
        opened = response.get("view")
        return str(opened.get("id", "")) if isinstance(opened, dict) else ""

    async def update_view(self, view_id: str, view_hash: str | None, view: View) -> bool:
        """views.update guarded by the hash; False when the view changed or closed meanwhile."""
        try:
            await self._client.views_update(view_id=view_id, hash=view_hash, view=view)
        except SlackApiError as exc:
            if _error(exc) in _VIEW_SUPERSEDED:
                return False
            raise
        return True

    async def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        """chat.postEphemeral: a note only `user` sees."""
        await self._client.chat_postEphemeral(channel=channel, user=user, text=text)

    async def post_direct(self, user: str, text: str) -> None:
        """chat.postMessage to the user's id: Slack posts it in the app's DM with them."""
        await self._client.chat_postMessage(channel=user, text=text)

    async def user_info(self, user_id: str) -> SlackUser | None:
        """users.info (email needs users:read.email)."""
        try:
            response = await self._client.users_info(user=user_id)
        except SlackApiError as exc:
            if _error(exc) in _NO_SUCH_USER:
                return None
            raise
        return _slack_user(response.get("user"))

    async def usergroup_members(self, group_id: str) -> list[str] | None:
        """usergroups.users.list (scope usergroups:read) of an enabled group; None when Slack
        has no such group or it is disabled."""
        try:
            response = await self._client.usergroups_users_list(
                usergroup=group_id, include_disabled=False
            )
        except SlackApiError as exc:
            if _error(exc) == _NO_SUCH_GROUP:
                return None
            raise
        users = response.get("users")
        return [u for u in users if isinstance(u, str)] if isinstance(users, list) else []

    async def user_by_email(self, email: str) -> SlackUser | None:
        """users.lookupByEmail."""
        try:
            response = await self._client.users_lookupByEmail(email=email)
        except SlackApiError as exc:
            if _error(exc) in _NO_SUCH_USER:
                return None
            raise
        return _slack_user(response.get("user"))
