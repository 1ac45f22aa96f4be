"""In-memory fakes of intake's ports, for handler tests (tier `handlers`)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from slack_sdk.models.views import View

from services.intake.domain.approvers import ApproverCandidate
from shared.contracts.events import ApproverGroup, Command, Person


class RecordingViews:
    """views.update recorded; nothing else expected."""

    def __init__(self) -> None:
        self.updated: list[dict[str, Any]] = []

    async def open_view(self, trigger_id: str, view: View) -> str:
        raise AssertionError("not expected")

    async def update_view(self, view_id: str, view_hash: str | None, view: View) -> bool:
        self.updated.append(view.to_dict())
        return True

    async def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        raise AssertionError("not expected")

    async def post_direct(self, user: str, text: str) -> None:
        raise AssertionError("not expected")


class StalledSlackPeople:
    """Knows the requester at once; every approver lookup waits for ever (Slack stalled)."""

    def __init__(self, requester: Person) -> None:
        self.requester = requester

    async def person(self, user_id: str) -> Person | None:
        return self.requester

    def cached_person(self, user_id: str) -> Person | None:
        return self.requester

    def cached_people(self, emails: Iterable[str]) -> list[Person]:
        return []

    async def candidates(self, emails: Iterable[str]) -> list[ApproverCandidate]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class StalledGroups:
    """usergroups.users.list that never answers."""

    async def resolve(self, group_ids: Sequence[str]) -> list[ApproverGroup]:
        await asyncio.Event().wait()
        raise AssertionError("unreachable")


class NoPublisher:
    """Nothing is published by the handlers under test."""

    async def publish(
        self,
        event: Command,
        *,
        event_id: str | None = None,
        time: datetime | None = None,
        patience: float = 0.0,
    ) -> Any:
        raise AssertionError("not expected")
