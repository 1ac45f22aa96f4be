"""Who people are in Slack (email, id, name), looked up briefly cached (pure of clients).

Profiles name people by email; Slack names them by user id. Lookups go through
a `UserSource` (the Slack gateway) and are cached for a few minutes, so the
hot path (a button press, a form submission) rarely waits for Slack.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol

from pydantic import ValidationError

from services.intake.domain.approvers import ApproverCandidate
from services.intake.handlers.ttl_cache import TtlCache
from shared.contracts.emails import normalise_email
from shared.contracts.events import Person

IDENTITY_TTL_SECONDS = 300.0


@dataclass(frozen=True, slots=True)
class SlackUser:
    """The parts of a Slack user object intake needs."""

    id: str
    email: str | None
    name: str | None
    deleted: bool = False
    is_bot: bool = False


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

    def __init__(self, source: UserSource, *, ttl: float = IDENTITY_TTL_SECONDS) -> None:
        self._source = source
        self._by_id: TtlCache[str, SlackUser | None] = TtlCache(ttl)
        self._by_email: TtlCache[str, SlackUser | None] = TtlCache(ttl)

    async def person(self, user_id: str) -> Person | None:
        """The Slack user as a Person; None when unknown, deleted, a bot or without an email."""
        user = await self._by_id.get(user_id, lambda: self._source.user_info(user_id))
        return _person(user)

    def cached_person(self, user_id: str) -> Person | None:
        """The person if already cached (never waits on Slack)."""
        return _person(self._by_id.peek(user_id))

    async def candidate(self, email: str) -> ApproverCandidate:
        """An approver as shown in the form; just the email when Slack does not know it."""
        key = normalise_email(email)
        user = await self._by_email.get(key, lambda: self._source.user_by_email(key))
        if user is None or user.deleted:
            return ApproverCandidate(email=key)
        return ApproverCandidate(email=key, name=user.name, slack_user_id=user.id)

    async def candidates(self, emails: Iterable[str]) -> list[ApproverCandidate]:
        """Every approver, looked up concurrently, in the given order.

        A failed lookup shows the bare email: the choice still works, only the
        name is missing.
        """
        wanted = list(emails)
        found = await asyncio.gather(*(self.candidate(e) for e in wanted), return_exceptions=True)
        return [
            c if isinstance(c, ApproverCandidate) else ApproverCandidate(email=normalise_email(e))
            for e, c in zip(wanted, found, strict=True)
        ]
