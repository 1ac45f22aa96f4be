"""Slack user groups named as approvers, resolved to emails when a request is opened.

`usergroups.users.list` is Tier 2 (20+ calls a minute): a group's member ids are kept
for `GROUP_TTL_SECONDS`, at most `GROUP_CACHE_MAX` groups, so a burst of requests makes
one call per group. Members become emails through the identity directory (users.info,
cached there); deactivated users, bots and users without an email are left out. A
disabled or unknown group resolves to no members. Pure of clients: the Slack calls
come in through `GroupSource`.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Protocol

import structlog

from services.intake.handlers.ttl_cache import TtlCache
from shared.contracts.events import MAX_GROUP_MEMBERS, ApproverGroup, Person

GROUP_TTL_SECONDS = 60.0
GROUP_CACHE_MAX = 100

log = structlog.get_logger("accessbot.intake")


class GroupTooLargeError(Exception):
    """A group has more members than may approve (`MAX_GROUP_MEMBERS`)."""

    def __init__(self, group_id: str, size: int) -> None:
        super().__init__(
            f"Slack user group {group_id} has {size} members (at most {MAX_GROUP_MEMBERS})"
        )
        self.group_id = group_id
        self.size = size


class GroupSource(Protocol):
    """usergroups.users.list (the Slack gateway)."""

    async def usergroup_members(self, group_id: str) -> list[str] | None:
        """The enabled group's member user ids; None when Slack knows no such (enabled) group."""


class PersonLookup(Protocol):
    """users.info as a Person, cached (services.intake.handlers.directory.Directory)."""

    async def person(self, user_id: str) -> Person | None:
        """The user as a Person; None when unknown, deactivated, a bot or without an email."""


class ApproverGroups:
    """Resolves a profile's `approvers.slack_groups`, briefly cached."""

    def __init__(
        self,
        source: GroupSource,
        people: PersonLookup,
        *,
        ttl: float = GROUP_TTL_SECONDS,
        max_groups: int = GROUP_CACHE_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._people = people
        self._members: TtlCache[str, list[str] | None] = TtlCache(
            ttl, max_size=max_groups, clock=clock
        )

    async def resolve(self, group_ids: Sequence[str]) -> list[ApproverGroup]:
        """Every group with its members' emails, in the given order (Slack errors raise)."""
        return list(await asyncio.gather(*(self._group(g) for g in group_ids)))

    async def _group(self, group_id: str) -> ApproverGroup:
        ids = await self._members.get(group_id, lambda: self._source.usergroup_members(group_id))
        if ids is None:
            log.warning("intake.approver_group_unusable", group=group_id)
            return ApproverGroup(group_id=group_id)
        if len(ids) > MAX_GROUP_MEMBERS:
            raise GroupTooLargeError(group_id, len(ids))
        people = await asyncio.gather(*(self._people.person(u) for u in ids))
        emails = list(dict.fromkeys(p.email for p in people if p is not None))
        return ApproverGroup(group_id=group_id, members=emails)
