"""One device, one profile, one grant: the claim a live request holds on a (profile, device).

KV `device_claims` (owner approvals, read by intake): key `<profile id>.<base64url(device
id)>` -> the request that holds the pair while it is pending, approved or active. Approvals
takes the claim by compare-and-set when it opens a request (a second submission for a pair
a live request holds is rejected) and keeps its state and end current as the request moves
on, marking it `ended` when the request is over (the key then ages out with the bucket).
Intake reads it to answer the form: an active grant of the requester's is offered for
extension instead of a second request.

The claim is a hint for intake and an index for approvals: approvals decides from the
request record the claim names, never from the claim alone. Pure: no client here.
"""

from __future__ import annotations

import base64
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class ClaimState(StrEnum):
    """Where the request holding the pair is."""

    PENDING = "pending"  # waiting for approvers
    APPROVED = "approved"  # approved; grants is applying it
    ACTIVE = "active"  # the attribute is set
    ENDED = "ended"  # the request is over: the pair is free


class DeviceClaim(BaseModel):
    """The value under a (profile, device) key in KV `device_claims`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    request_id: str = Field(description="The request holding the pair.")
    profile_id: str
    device_id: str
    requester: str = Field(description="The holding request's requester (normalised email).")
    state: ClaimState
    until: AwareDatetime | None = Field(
        default=None,
        description="Pending: when the request expires unanswered; active: when the grant "
        "ends; approved: None (the grant's end is not known yet).",
    )

    record_revision: int = Field(
        default=0,
        ge=0,
        description="The request record's revision this was derived from (0: taken at "
        "submission, before the record existed); never written backwards.",
    )

    @property
    def key(self) -> str:
        """Where it is kept."""
        return claim_key(self.profile_id, self.device_id)

    def holds(self, now: datetime) -> bool:
        """Whether the pair is still held at `now` (a claim whose end passed is stale)."""
        return self.state is not ClaimState.ENDED and (self.until is None or self.until > now)


def claim_key(profile_id: str, device_id: str) -> str:
    """The KV key of a pair: profile ids are slugs; device ids may hold characters KV keys
    refuse, so they are base64url-encoded."""
    device = base64.urlsafe_b64encode(device_id.encode()).decode().rstrip("=")
    return f"{profile_id}.{device}"
