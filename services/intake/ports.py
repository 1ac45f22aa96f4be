"""What the dispatcher needs from the outside world, as protocols.

The composition root plugs in the Slack gateway, the cached directory and the
JetStream publisher; nothing here imports a client.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from datetime import datetime
from typing import Any, Protocol

from slack_sdk.models.views import View

from services.intake.domain.approvers import ApproverCandidate
from shared.contracts.events import ApproverGroup, Command, Person
from shared.device_claims import DeviceClaim

AckBody = dict[str, Any] | None
Ack = Callable[[AckBody], Awaitable[None]]
"""Answers Slack for one interaction (the socket envelope ack or the HTTP response)."""


class Views(Protocol):
    """Slack surfaces intake drives."""

    async def open_view(self, trigger_id: str, view: View) -> str:
        """views.open; the view id."""

    async def update_view(self, view_id: str, view_hash: str | None, view: View) -> bool:
        """views.update; False when superseded."""

    async def post_ephemeral(self, channel: str, user: str, text: str) -> None:
        """A note only `user` sees."""

    async def post_direct(self, user: str, text: str) -> None:
        """A note in the app's DM with `user` (where a Home tab button has no channel)."""


class People(Protocol):
    """Identity lookups (cached)."""

    async def person(self, user_id: str) -> Person | None:
        """The Slack user as a Person, if it has an email."""

    def cached_person(self, user_id: str) -> Person | None:
        """Only from the cache."""

    def cached_people(self, emails: Iterable[str]) -> list[Person]:
        """Those of `emails` the cache knows (name and Slack id); never waits on Slack."""

    async def candidates(self, emails: Iterable[str]) -> list[ApproverCandidate]:
        """Approvers as shown in the form."""


class Groups(Protocol):
    """Slack user groups as approvers (services.intake.handlers.approver_groups.ApproverGroups)."""

    async def resolve(self, group_ids: Sequence[str]) -> list[ApproverGroup]:
        """Each group with its members' emails."""


class Claims(Protocol):
    """Which request holds a (profile, device) (services.intake.adapters.claims.ClaimReader)."""

    async def claim(self, profile_id: str, device_id: str) -> DeviceClaim | None:
        """The claim approvals keeps on the pair, if any."""


class PublishAck(Protocol):
    """What JetStream answered (nats-py's PubAck)."""

    duplicate: bool | None


class Publisher(Protocol):
    """Puts events on the ACCESS stream (shared.publishing.EventPublisher)."""

    async def publish(
        self,
        event: Command,
        *,
        event_id: str | None = None,
        time: datetime | None = None,
        patience: float = 0.0,
    ) -> PublishAck:
        """Publish and wait for the stream's ack (trying again for `patience` seconds)."""
