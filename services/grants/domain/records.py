"""The grant record kept in KV `grants` (key = request id), and what it is made of.

A record is self-sufficient: it holds everything needed to redo or finish the
operation in flight after a crash (`op`), and the events decided but not yet
confirmed published (`outbox`), each with the event id fixed before publishing.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.events import Person
from shared.persistence.outbox import OutboxEntry


class GrantStatus(StrEnum):
    """Where a grant is in its life (transitions: services.grants.domain.transitions)."""

    APPLYING = "applying"
    ACTIVE = "active"
    EXTENDING = "extending"
    REVOKING = "revoking"
    EXPIRING = "expiring"
    FAILED = "failed"
    REVOKED = "revoked"
    EXPIRED = "expired"


TERMINAL = frozenset({GrantStatus.FAILED, GrantStatus.REVOKED, GrantStatus.EXPIRED})


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class _Op(_Frozen):
    """An operation against Tailscale that one replica owns until `lease_until`."""

    lease_until: AwareDatetime | None = Field(
        description="Until when the owner may work undisturbed; None once released."
    )


class ApplyOp(_Op):
    """Set the attribute for the first time."""

    kind: Literal["apply"] = "apply"


class ExtendOp(_Op):
    """Move the expiry of an active grant."""

    kind: Literal["extend"] = "extend"
    extension_id: str
    additional_seconds: int
    new_expires_at: AwareDatetime
    comment: str


class RevokeOp(_Op):
    """Remove the attribute early, at someone's request."""

    kind: Literal["revoke"] = "revoke"
    source_event_id: str = Field(description="The revoke.requested event being carried out.")
    actor: Person
    reason: str | None = None


class ExpireOp(_Op):
    """Remove the attribute because its time is over."""

    kind: Literal["expire"] = "expire"
    generation: int


Op = Annotated[ApplyOp | ExtendOp | RevokeOp | ExpireOp, Field(discriminator="kind")]


class Failure(_Frozen):
    """Why applying failed."""

    error_code: str
    message: str
    status_code: int | None = None
    retryable: bool = Field(default=True, description="Whether asking again later may work.")


class ExtensionOutcome(_Frozen):
    """What became of one extension id (so a redelivery changes nothing twice)."""

    outcome: Literal["extended", "failed"]
    event_id: str


class GrantRecord(_Frozen):
    """One grant: the attribute on a device for one request."""

    schema_version: Literal[1] = 1
    request_id: str
    requester: Person
    profile_id: str
    device_id: str
    attribute: str
    value: bool | int | str
    duration_seconds: int
    comment: str
    status: GrantStatus
    expires_at: AwareDatetime = Field(description="Computed when applied; moved by extensions.")
    generation: int = Field(default=0, description="Expiry timer generation.")
    applied_at: AwareDatetime | None = None
    approved_at: AwareDatetime | None = Field(
        default=None, description="When approvals approved it (approved -> applied latency)."
    )
    ended_at: AwareDatetime | None = Field(default=None, description="Revoked or expired at.")
    op: Op | None = None
    failure: Failure | None = None
    event_ids: dict[str, str] = Field(
        default_factory=dict, description="Outgoing event ids by kind (applied, expired, ...)."
    )
    extensions: dict[str, ExtensionOutcome] = Field(default_factory=dict)
    revoked_by: Person | None = None
    revoke_source_event_id: str | None = None
    outbox: list[OutboxEntry] = Field(default_factory=list)
    timer_pending: bool = Field(
        default=False, description="The expiry timer must be (re)scheduled for `generation`."
    )
    updated_at: AwareDatetime

    def lease_free(self, now: datetime) -> bool:
        """Whether nobody (alive) owns the operation in flight."""
        return self.op is None or self.op.lease_until is None or self.op.lease_until <= now
