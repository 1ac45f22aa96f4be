"""Who people are in Slack (email, id, name, time zone), looked up briefly cached (pure of
clients).

Profiles name people by email; Slack names them by user id. Lookups go through
a `UserSource` (the Slack gateway) and are cached for `IDENTITY_TTL_SECONDS`, at most
`IDENTITY_CACHE_MAX` users per direction (least recently used dropped first), so the
hot path (a button press, a form submission) rarely waits for Slack and memory stays
bounded however many people use the app.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from services.intake.domain.approvers import ApproverCandidate
from services.intake.handlers.ttl_cache import TtlCache
from shared.contracts.emails import normalise_email
from shared.contracts.events import Person

IDENTITY_TTL_SECONDS = 300.0
IDENTITY_CACHE_MAX = 10_000


@dataclass(frozen=True, slots=True)
class SlackUser:
    """The parts of a Slack user object intake needs."""

    id: str
    email: str | None
    name: str | None
    deleted: bool = False
    is_bot: bool = False
    tz_offset: int | None = None  # seconds east of UTC now (users.info `tz_offset`)


class UserSource(Protocol):
    """users.info and users.lookupByEmail; None when Slack knows no such user."""

    async def user_info(self, user_id: str) -> SlackUser | None:
        """users.info."""

    async def user_by_email(self, email: str) -> SlackUser | None:
        """users.lookupByEmail."""


def _person(user: SlackUser | None) -> Person | None:
    if user is None or user.deleted or user.is_bot or not user.email:
        return None
    try:
        return Person(email=user.email, slack_user_id=user.id, name=user.name)
    except ValidationError:
        return None  # an address pydantic cannot accept identifies nobody in profiles.yaml


class Directory:
    """Cached identity lookups."""

    def __init__(
        self,
        source: UserSource,
        *,
        ttl: float = IDENTITY_TTL_SECONDS,
        max_size: int = IDENTITY_CACHE_MAX,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._source = source
        self._by_id: TtlCache[str, SlackUser | None] = TtlCache(ttl, max_size=max_size, clock=clock)
        self._by_email: TtlCache[str, SlackUser | None] = TtlCache(
            ttl, max_size=max_size, clock=clock
        )

    async def person(self, user_id: str) -> Person | None:
        """The Slack user as a Person; None when unknown, deleted, a bot or without an email."""
        user = await self._by_id.get(user_id, lambda: self._user_info(user_id))
        return _person(user)

    async def _user_info(self, user_id: str) -> SlackUser | None:
        user = await self._source.user_info(user_id)
        if user is not None and user.email and not user.deleted:
            # Group members come by id; the form then shows them by email without
            # a second call (users.lookupByEmail is Tier 3).
            self._by_email.put(normalise_email(user.email), user)
        return user

    def cached_person(self, user_id: str) -> Person | None:
        """The person if already cached (never waits on Slack)."""
        return _person(self._by_id.peek(user_id))

    def cached_people(self, emails: Iterable[str]) -> list[Person]:
        """Those of `emails` the cache knows (the form looked them up moments before);
        never waits on Slack: whoever is missing is named by email downstream."""
        found = (_person(self._by_email.peek(normalise_email(e))) for e in emails)
        return [p for p in found if p is not None]

    async def candidate(self, email: str) -> ApproverCandidate | None:
        """An approver as shown in the form, with their time zone; None when Slack has no
        active user with this email (users.lookupByEmail finds no deactivated account)."""
        key = normalise_email(email)
        user = await self._by_email.get(key, lambda: self._source.user_by_email(key))
        if user is None or user.deleted or user.is_bot:
            return None
        return ApproverCandidate(
            email=key, name=user.name, slack_user_id=user.id, tz_offset=user.tz_offset
        )

    async def candidates(self, emails: Iterable[str]) -> list[ApproverCandidate]:
        """The approvers active in Slack, looked up concurrently, in the given order.

        Deactivated (or unknown) people are left out. A failed lookup shows the bare
        email: the choice still works, only the name and local time are missing.
        """
        wanted = list(emails)
        found = await asyncio.gather(*(self.candidate(e) for e in wanted), return_exceptions=True)
        shown: list[ApproverCandidate] = []
        for email, got in zip(wanted, found, strict=True):
            if isinstance(got, ApproverCandidate):
                shown.append(got)
            elif isinstance(got, BaseException):
                shown.append(ApproverCandidate(email=normalise_email(email)))
        return shown
