"""The value kept per request in KV `slack_messages`: the view and every message posted.

A slot names one message's role (see `slots`); its ref holds where it is (channel,
ts) and a digest of what it shows, so an unchanged message is not updated again and
a redelivered event updates instead of posting twice.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from services.notifier.domain.request_view import RequestView
from shared.persistence.ledger import remember


class MessageRef(BaseModel):
    """Where one posted message is, and what it shows now."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    ts: str
    digest: str


class NotifierRecord(BaseModel):
    """Everything the notifier remembers about one request."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    view: RequestView
    messages: dict[str, MessageRef] = Field(default_factory=dict)
    applied_events: list[str] = Field(
        default_factory=list, description="Events fully handled (bounded: the newest LEDGER_LIMIT)."
    )
    unreachable: dict[str, str] = Field(
        default_factory=dict, description="Delivery target -> the Slack error that ruled it out."
    )
    home_indexed: list[str] = Field(
        default_factory=list,
        description="People (emails) whose Home index holds this request: not added again.",
    )

    @classmethod
    def new(cls, request_id: str) -> NotifierRecord:
        """The record of a request nothing was posted about yet."""
        return cls(view=RequestView(request_id=request_id))

    def has_applied(self, event_id: str) -> bool:
        """True once every message an event called for was handled."""
        return event_id in self.applied_events

    def with_view(self, view: RequestView) -> NotifierRecord:
        """The record with a newer view."""
        return self.model_copy(update={"view": view})

    def with_ref(self, slot: str, ref: MessageRef) -> NotifierRecord:
        """The record with one message posted or updated."""
        return self.model_copy(update={"messages": {**self.messages, slot: ref}})

    def without_ref(self, slot: str) -> NotifierRecord:
        """The record forgetting a message (deleted in Slack: it will be posted again)."""
        messages = {k: v for k, v in self.messages.items() if k != slot}
        return self.model_copy(update={"messages": messages})

    def with_unreachable(self, target: str, error: str) -> NotifierRecord:
        """The record noting a target Slack refused for good (reported once, then skipped)."""
        return self.model_copy(update={"unreachable": {**self.unreachable, target: error}})

    def with_home_indexed(self, emails: list[str]) -> NotifierRecord:
        """The record noting people whose Home index now holds the request."""
        new = [e for e in emails if e not in self.home_indexed]
        if not new:
            return self
        return self.model_copy(update={"home_indexed": [*self.home_indexed, *new]})

    def with_applied(self, event_id: str) -> NotifierRecord:
        """The record noting an event as fully handled."""
        if event_id in self.applied_events:
            return self
        return self.model_copy(update={"applied_events": remember(self.applied_events, event_id)})
