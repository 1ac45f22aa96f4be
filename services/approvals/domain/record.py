"""The request record kept in KV `requests` (one per request id), and its parts.

Everything a decision needs is in the record: the profile's rules are copied in
when the request is opened, so a pending request is judged by the rules it was
submitted under (profiles.yaml changes take effect on restart, for new requests).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.events import ApprovalMode, Decision, DeviceSnapshot, Person, Problem
from shared.persistence.outbox import OutboxEntry
from shared.profiles import SelfApproval


class RequestStatus(StrEnum):
    """Where a request is in its life (see README.md for the transitions)."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class ExtensionStatus(StrEnum):
    """Where one extension of an active grant is."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"
    APPLIED = "applied"  # grants moved the expiry
    FAILED = "failed"  # grants could not move it


class GrantStatus(StrEnum):
    """What grants reported about the attribute on the device."""

    ACTIVE = "active"
    EXPIRED = "expired"
    REVOKED = "revoked"
    FAILED = "failed"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Rules(_Model):
    """The profile's rules as they were when the request was opened."""

    description: str
    attribute: str
    value: bool | int | str
    approvals_required: int
    self_approval: SelfApproval
    eligible: list[str] = Field(description="Lowercased emails whose decision counts.")
    groups: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Slack user group id -> members' emails, resolved when opened.",
    )
    remind_after_seconds: int | None = Field(
        default=None, description="Remind undecided approvers this often (None: never)."
    )
    max_reminders: int = Field(default=0, description="Reminders at most.")
    escalate_after_seconds: int | None = Field(
        default=None, description="Escalate when nobody decided this long (None: never)."
    )
    fallback: list[str] = Field(
        default_factory=list,
        description="Lowercased emails escalation adds; their decision counts only once "
        "the request is escalated (Profile.may_decide).",
    )
    fallback_groups: list[str] = Field(
        default_factory=list, description="`escalate_to` groups with members when opened."
    )
    named: list[Person] = Field(
        default_factory=list,
        description="Approvers as intake's form showed them (name, Slack id), when it knew; "
        "who is asked is named from here, anyone else by email.",
    )


class Vote(_Model):
    """One counted decision (at most one per approver)."""

    approver: Person
    decision: Decision
    reason: str | None = None
    at: AwareDatetime


class GrantTracking(_Model):
    """The grant's outcome as reported by grants."""

    status: GrantStatus
    expires_at: AwareDatetime | None = None
    granted_seconds: int = Field(description="Approved time including applied extensions.")
    reason: str | None = Field(default=None, description="Why it failed, when it did.")


class ExtensionRecord(_Model):
    """One extension of the request's grant."""

    extension_id: str
    requested_by: Person
    additional_seconds: int
    reason: str
    requested_at: AwareDatetime
    status: ExtensionStatus
    approvals_required: int = 1
    self_approval: SelfApproval = SelfApproval.NEVER
    eligible: list[str] = Field(default_factory=list)
    asked: list[Person] = Field(default_factory=list)
    votes: list[Vote] = Field(default_factory=list)
    expires_at: AwareDatetime | None = None
    mode: ApprovalMode | None = None
    decided_at: AwareDatetime | None = None


class RequestRecord(_Model):
    """The value under a request id in KV `requests`."""

    request_id: str
    status: RequestStatus
    profile_id: str
    requester: Person
    device_id: str
    device: DeviceSnapshot | None = Field(
        default=None, description="From KV `devices` when opened; None when rejected."
    )
    duration_seconds: int
    reason: str
    chosen_approver: str | None = None
    rules: Rules | None = Field(default=None, description="None when rejected.")
    asked: list[Person] = Field(default_factory=list)
    votes: list[Vote] = Field(default_factory=list)
    problems: list[Problem] = Field(default_factory=list)
    mode: ApprovalMode | None = None
    submitted_at: AwareDatetime
    created_at: AwareDatetime
    expires_at: AwareDatetime | None = None
    decided_at: AwareDatetime | None = None
    grant: GrantTracking | None = None
    extensions: dict[str, ExtensionRecord] = Field(default_factory=dict)
    reminders: int = Field(default=0, description="Reminders sent (or skipped as missed).")
    escalated_at: AwareDatetime | None = Field(
        default=None, description="When the fallback approvers were added, if they were."
    )
    applied: list[str] = Field(
        default_factory=list,
        description="Inputs already applied (the newest LEDGER_LIMIT), so a redelivery is a no-op.",
    )
    outbox: list[OutboxEntry] = Field(default_factory=list)

    @property
    def terminal(self) -> bool:
        """A decided request never changes status again."""
        return self.status is not RequestStatus.PENDING

    def pending_extension(self) -> ExtensionRecord | None:
        """The extension waiting for approvers, if any (at most one at a time)."""
        return next(
            (e for e in self.extensions.values() if e.status is ExtensionStatus.PENDING), None
        )

    def next_reminder_at(self) -> datetime | None:
        """When the next reminder is due (before the request expires), if one is left."""
        rules = self.rules
        if (
            self.status is not RequestStatus.PENDING
            or rules is None
            or rules.remind_after_seconds is None
            or self.reminders >= rules.max_reminders
        ):
            return None
        due = self.created_at + timedelta(seconds=rules.remind_after_seconds * (self.reminders + 1))
        return due if self.expires_at is None or due < self.expires_at else None

    def escalation_at(self) -> datetime | None:
        """When the request escalates (before it expires), unless it did or never will."""
        rules = self.rules
        if (
            self.status is not RequestStatus.PENDING
            or rules is None
            or rules.escalate_after_seconds is None
            or self.escalated_at is not None
        ):
            return None
        due = self.created_at + timedelta(seconds=rules.escalate_after_seconds)
        return due if self.expires_at is None or due < self.expires_at else None

    def next_timer(self) -> datetime | None:
        """When the request timer must fire next (a reminder, the escalation, the expiry),
        if anything is pending."""
        if self.status is RequestStatus.PENDING:
            moments = [self.next_reminder_at(), self.escalation_at(), self.expires_at]
            return min((m for m in moments if m is not None), default=None)
        pending = self.pending_extension()
        return pending.expires_at if pending is not None else None
