"""`accessbot profiles check --online`: the Slack user groups profiles.yaml names exist,
are enabled and are small enough to approve, asked of Slack with the bot token."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from shared.contracts.events import MAX_GROUP_MEMBERS
from shared.profiles import ProfilesConfig

SLACK_API_URL = "https://slack.com/api/"
TIMEOUT_SECONDS = 10
_HINTS = {
    "missing_scope": "the bot token needs the usergroups:read scope (deploy/README.md)",
    "invalid_auth": "SLACK_BOT_TOKEN is not a valid bot token",
    "not_authed": "SLACK_BOT_TOKEN is empty",
    "plan_upgrade_required": "user groups need a paid Slack plan",
}


class OnlineCheckError(Exception):
    """Slack could not be asked (one line, for stderr)."""


def named_groups(config: ProfilesConfig) -> Iterator[tuple[str, str, str]]:
    """(profile id, field, group id) for every group a profile names."""
    for profile in config.profiles:
        for group in profile.approvers.slack_groups:
            yield profile.id, "approvers.slack_groups", group
        for group in profile.escalate_to.slack_groups if profile.escalate_to else []:
            yield profile.id, "escalate_to.slack_groups", group


def group_problems(config: ProfilesConfig, groups: list[dict[str, Any]]) -> list[str]:
    """One line per named group that is unknown, disabled, empty or too large."""
    by_id = {g.get("id"): g for g in groups if isinstance(g, dict)}
    problems: list[str] = []
    for profile_id, field, group_id in named_groups(config):
        where = f"profile {profile_id!r}: {field}: {group_id}"
        found = by_id.get(group_id)
        if found is None:
            problems.append(f"{where} is not a user group of this Slack workspace")
            continue
        handle = f"@{found.get('handle', '')}"
        if found.get("date_delete"):
            problems.append(f"{where} ({handle}) is disabled, so nobody in it is asked")
            continue
        count = int(found.get("user_count") or 0)
        if count == 0:
            problems.append(f"{where} ({handle}) has no members")
        elif count > MAX_GROUP_MEMBERS:
            problems.append(
                f"{where} ({handle}) has {count} members; at most {MAX_GROUP_MEMBERS} may approve"
            )
    return problems


async def fetch_groups(token: str, base_url: str) -> list[dict[str, Any]]:
    """usergroups.list with disabled groups and counts, or OnlineCheckError."""
    client = AsyncWebClient(token=token, base_url=base_url, timeout=TIMEOUT_SECONDS)
    try:
        response = await client.usergroups_list(include_disabled=True, include_count=True)
    except SlackApiError as exc:
        error = str(exc.response.get("error", "unknown_error"))
        hint = _HINTS.get(error)
        raise OnlineCheckError(
            f"Slack refused usergroups.list: {error}" + (f" ({hint})" if hint else "")
        ) from None
    except (OSError, TimeoutError) as exc:
        raise OnlineCheckError(f"cannot reach Slack at {base_url}: {exc}") from None
    found = response.get("usergroups")
    return [g for g in found if isinstance(g, dict)] if isinstance(found, list) else []


def online_problems(config: ProfilesConfig) -> list[str]:
    """The problems Slack shows; OnlineCheckError when Slack cannot be asked."""
    if not any(True for _ in named_groups(config)):
        return []
    token = os.environ.get("SLACK_BOT_TOKEN", "")
    if not token:
        raise OnlineCheckError("--online needs SLACK_BOT_TOKEN (the bot token, xoxb-…)")
    base_url = os.environ.get("SLACK_API_URL", SLACK_API_URL)
    return group_problems(config, asyncio.run(fetch_groups(token, base_url)))
