"""Which requests each person's Home tab shows: a bounded index per person, kept in KV.

The notifier adds a request to the index of everyone an event about it touches (the
requester, the approvers asked, whoever decided, revoked or cancelled); the Home is then
built from those requests' records, not from memory. Once a person's Home was published
(they opened it), every change to one of their requests republishes it. The index holds the newest
MAX_HOME_REQUESTS request ids (the oldest dropped), which bounds both the value and
the reads one publish makes.
"""

from __future__ import annotations

import hashlib

from pydantic import BaseModel, ConfigDict, Field

from services.notifier.domain.request_view import RequestView
from shared.contracts.events import Person
from shared.persistence.ledger import remember

MAX_HOME_REQUESTS = 50
HOME_KEY_PREFIX = "home."


def home_key(email: str) -> str:
    """The KV key of a person's index: a digest of the email (KV keys cannot hold `@`),
    prefixed so it never meets a request id (a ULID) in the same bucket."""
    return HOME_KEY_PREFIX + hashlib.sha256(email.encode()).hexdigest()[:32]


class HomeIndex(BaseModel):
    """The request ids one person's Home is built from, oldest first."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(description="home_key(email) of the person.")
    request_ids: list[str] = Field(
        default_factory=list, description="Newest last; at most MAX_HOME_REQUESTS."
    )
    published: bool = Field(
        default=False,
        description="The person's Home was published once: changes republish it from then on.",
    )

    def with_request(self, request_id: str) -> HomeIndex:
        """The index with `request_id` (unchanged when known), the oldest dropped past the limit."""
        if request_id in self.request_ids:
            return self
        kept = remember(self.request_ids, request_id, limit=MAX_HOME_REQUESTS)
        return self.model_copy(update={"request_ids": kept})

    def as_published(self) -> HomeIndex:
        """The index of a person whose Home was published (unchanged when it was before)."""
        return self if self.published else self.model_copy(update={"published": True})


def touched(view: RequestView) -> list[Person]:
    """Everyone whose Home shows this request: requester, approvers asked (escalation
    included), deciders, whoever ended it; each once, by email."""
    found: dict[str, Person] = {}
    candidates = [
        *([view.requester] if view.requester else []),
        *view.everyone_asked,
        *view.approved_by,
        *([view.denied_by] if view.denied_by else []),
        *([view.ended_by] if view.ended_by else []),
        *(p for ext in view.extensions.values() for p in (*ext.approvers, *ext.decided_by)),
    ]
    for who in candidates:
        known = found.get(who.email)
        if known is None or (known.slack_user_id is None and who.slack_user_id):
            found[who.email] = who
    return list(found.values())
