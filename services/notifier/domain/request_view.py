"""What the notifier knows about one request, folded from the events it has seen.

Each event is consumed by its own durable consumer, so events of one request can
be handled out of order (a retried `request.approved` may land after
`grant.applied`). `fold` is therefore idempotent and order-tolerant: the phase only
moves forward (by rank), later expiries win, and facts are set, never counted.
The messages are rendered from this view, so every message shows the furthest
state known, whatever order the events came in.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field

from services.notifier.domain.votes import merged
from shared.contracts.events import (
    ApprovalCounted,
    ApprovalEscalated,
    ApprovalMode,
    ApprovalReminded,
    ApprovalRequested,
    ApproverGroup,
    DeviceSnapshot,
    ExtensionApproved,
    ExtensionDenied,
    GrantApplied,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
    Message,
    Person,
    Problem,
    RequestApproved,
    RequestCancelled,
    RequestDenied,
    RequestEvent,
    RequestExpired,
    RequestRejected,
    SubmitRequest,
)
from shared.wording import rule_text


class Phase(StrEnum):
    """Where a request is, as people are told."""

    SUBMITTED = "submitted"  # received, approvals has not asked anyone yet
    PENDING = "pending"  # approvers asked
    APPROVED = "approved"  # approved, grants is applying it (not access yet)
    ACTIVE = "active"  # the attribute is set
    DENIED = "denied"
    EXPIRED = "expired"  # nobody decided in time
    CANCELLED = "cancelled"
    REJECTED = "rejected"
    FAILED = "failed"  # the attribute could not be set
    REVOKED = "revoked"
    ENDED = "ended"  # the grant's time is over


_RANK = {Phase.SUBMITTED: 0, Phase.PENDING: 1, Phase.APPROVED: 2, Phase.ACTIVE: 3}
TERMINAL_RANK = 4  # every other phase: the first terminal phase seen stays


def rank(phase: Phase) -> int:
    """Order of phases; a fold never moves a request backwards."""
    return _RANK.get(phase, TERMINAL_RANK)


class ExtensionPhase(StrEnum):
    """Where an extension of an active grant is."""

    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    APPLIED = "applied"
    FAILED = "failed"


_EXT_RANK = {ExtensionPhase.PENDING: 0, ExtensionPhase.APPROVED: 1}
_EXT_DONE = 2  # denied, applied or failed


def _ext_rank(phase: ExtensionPhase) -> int:
    return _EXT_RANK.get(phase, _EXT_DONE)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ExtensionView(_Frozen):
    """One extension of the grant."""

    extension_id: str
    phase: ExtensionPhase = ExtensionPhase.PENDING
    additional_seconds: int | None = None
    reason: str | None = None
    approvers: list[Person] = Field(default_factory=list)
    approvals_required: int | None = None
    request_expires_at: datetime | None = None
    approvals: list[Person] = Field(
        default_factory=list, description="Approvals counted before the quorum decided."
    )
    decided_by: list[Person] = Field(default_factory=list)
    deny_reason: str | None = None
    failure: str | None = None
    new_expires_at: datetime | None = None


class RequestView(_Frozen):
    """Everything the messages about one request are rendered from."""

    request_id: str
    phase: Phase = Phase.SUBMITTED
    requester: Person | None = None
    profile_id: str | None = None
    profile_description: str | None = None
    device_id: str | None = None
    device: DeviceSnapshot | None = None
    attribute: str | None = None
    duration_seconds: int | None = None
    reason: str | None = None
    submitted_at: datetime | None = None
    approvers: list[Person] = Field(default_factory=list)
    approver_groups: list[str] = Field(
        default_factory=list, description="Slack user groups the approvers were asked through."
    )
    group_members: list[ApproverGroup] = Field(
        default_factory=list, description="Members of `approver_groups` (empty: not known)."
    )
    approvals_required: int | None = None
    request_expires_at: datetime | None = None
    approved_by: list[Person] = Field(default_factory=list)
    approvals: list[Person] = Field(
        default_factory=list,
        description="Approvals counted before the quorum decided (access.approval.counted).",
    )
    approval_mode: ApprovalMode | None = None
    denied_by: Person | None = None
    deny_reason: str | None = None
    problems: list[Problem] = Field(default_factory=list)
    failure: str | None = None
    failure_code: str | None = None
    failure_retryable: bool = True
    grant_expires_at: datetime | None = None
    ended_at: datetime | None = None
    ended_by: Person | None = None
    end_reason: str | None = None
    continues_under: str | None = None  # another grant keeps the attribute on the device
    continues_until: datetime | None = None
    extensions: dict[str, ExtensionView] = Field(default_factory=dict)
    reminders: int = Field(default=0, description="The latest reminder sent (0: none).")
    max_reminders: int | None = None
    reminded: list[str] = Field(
        default_factory=list,
        description="Emails of the approvers a reminder went to (fallback approvers asked "
        "after the reminders were sent are not among them).",
    )
    escalated_to: list[Person] = Field(
        default_factory=list, description="Fallback approvers escalation added and asked."
    )
    escalation_groups: list[str] = Field(
        default_factory=list, description="Slack user groups the fallback was asked through."
    )
    escalation_group_members: list[ApproverGroup] = Field(
        default_factory=list, description="Members of `escalation_groups` (empty: not known)."
    )
    escalated_after_seconds: int | None = Field(
        default=None, description="How long the request waited before it escalated."
    )

    @property
    def everyone_asked(self) -> list[Person]:
        """The approvers asked first, then those escalation added (each once)."""
        known = {p.email for p in self.approvers}
        return [*self.approvers, *(p for p in self.escalated_to if p.email not in known)]

    def was_reminded(self, approver: Person) -> bool:
        """Whether the reminder line belongs on `approver`'s copy: those asked first, and
        anyone a reminder went to (not a fallback approver asked after the reminders)."""
        return approver.email in self.reminded or any(
            p.email == approver.email for p in self.approvers
        )

    @property
    def latest_extension(self) -> ExtensionView | None:
        """The most recent extension (ids are ULIDs, so they sort by time)."""
        if not self.extensions:
            return None
        return self.extensions[max(self.extensions)]


def _advance(view: RequestView, phase: Phase, **facts: object) -> RequestView:
    """Move to `phase` if it is further on; facts of a phase that lost are still kept."""
    current = rank(view.phase)
    if rank(phase) > current or (rank(phase) == current < TERMINAL_RANK):
        return view.model_copy(update={"phase": phase, **facts})
    if current == TERMINAL_RANK and rank(phase) == TERMINAL_RANK and phase != view.phase:
        return view  # another ending already won; do not mix their facts
    return view.model_copy(update=facts)


def _later(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None or b is None:
        return a or b
    return max(a, b)


def _with_extension(view: RequestView, ext: ExtensionView) -> RequestView:
    return view.model_copy(update={"extensions": {**view.extensions, ext.extension_id: ext}})


def _extension(view: RequestView, extension_id: str) -> ExtensionView:
    return view.extensions.get(extension_id) or ExtensionView(extension_id=extension_id)


def _advance_ext(ext: ExtensionView, phase: ExtensionPhase, **facts: object) -> ExtensionView:
    """Like `_advance`, for an extension: forward only, the first outcome stays."""
    current, wanted = _ext_rank(ext.phase), _ext_rank(phase)
    if wanted > current or (wanted == current and phase == ext.phase):
        return ext.model_copy(update={"phase": phase, **facts})
    if current == wanted == _EXT_DONE:
        return ext  # another outcome already won; do not mix their facts
    return ext.model_copy(update=facts)


def is_about_extension(event: Message) -> bool:
    """Events about an extension of an active grant rather than the request itself."""
    if isinstance(event, ExtensionApproved | ExtensionDenied | GrantExtended):
        return True
    return (
        isinstance(event, ApprovalRequested | ApprovalCounted | GrantFailed)
        and event.extension_id is not None
    )


def _learn(view: RequestView, event: Message) -> RequestView:
    """Facts every request event carries (who asked, for which profile)."""
    update: dict[str, object] = {}
    if isinstance(event, RequestEvent | SubmitRequest | RequestRejected):
        update["requester"] = view.requester or event.requester
        update["profile_id"] = view.profile_id or event.profile_id
    return view.model_copy(update=update) if update else view


def _fold_extension_event(view: RequestView, event: Message) -> RequestView:  # noqa: PLR0911 - one case per event type
    if isinstance(event, ApprovalRequested) and event.extension_id:
        ext = _extension(view, event.extension_id).model_copy(
            update={
                "additional_seconds": event.additional_seconds,
                "reason": event.reason,
                "approvers": event.approvers,
                "approvals_required": event.approvals_required,
                "request_expires_at": event.expires_at,
            }
        )
        return _with_extension(view, ext)
    if isinstance(event, ApprovalCounted) and event.extension_id:
        ext = _extension(view, event.extension_id)
        approvals = merged(ext.approvals, event.approvals)
        ext = ext.model_copy(
            update={"approvals": approvals, "approvals_required": event.approvals_required}
        )
        return _with_extension(view, ext)
    if isinstance(event, ExtensionApproved):
        ext = _advance_ext(
            _extension(view, event.extension_id),
            ExtensionPhase.APPROVED,
            additional_seconds=event.additional_seconds,
            decided_by=event.approvers,
        )
        return _with_extension(view, ext)
    if isinstance(event, ExtensionDenied):
        ext = _advance_ext(
            _extension(view, event.extension_id),
            ExtensionPhase.DENIED,
            decided_by=[event.denied_by] if event.denied_by else [],
            # a rule's refusal is worded here; a person's reason is quoted as they wrote it
            deny_reason=rule_text(event.facts) if event.facts else event.reason,
        )
        return _with_extension(view, ext)
    if isinstance(event, GrantExtended):
        ext = _advance_ext(
            _extension(view, event.extension_id),
            ExtensionPhase.APPLIED,
            new_expires_at=event.expires_at,
        )
        expires = _later(view.grant_expires_at, event.expires_at)
        return _with_extension(view, ext).model_copy(update={"grant_expires_at": expires})
    if isinstance(event, GrantFailed) and event.extension_id:
        ext = _advance_ext(
            _extension(view, event.extension_id), ExtensionPhase.FAILED, failure=event.message
        )
        return _with_extension(view, ext)
    return view


def _fold_nudge(view: RequestView, event: ApprovalReminded | ApprovalEscalated) -> RequestView:
    """A reminder (the latest number wins) or the escalation (who was added)."""
    if isinstance(event, ApprovalReminded):
        known = set(view.reminded)
        return view.model_copy(
            update={
                "reminders": max(view.reminders, event.reminder),
                "max_reminders": event.max_reminders,
                "reminded": [
                    *view.reminded,
                    *(p.email for p in event.approvers if p.email not in known),
                ],
            }
        )
    return _advance(
        view,
        Phase.PENDING,
        profile_description=event.profile_description,
        device=event.device,
        device_id=event.device.node_id,
        duration_seconds=event.duration_seconds,
        reason=event.reason,
        approvals_required=event.approvals_required,
        request_expires_at=event.expires_at,
        escalated_to=event.approvers,
        escalation_groups=event.approver_groups,
        escalation_group_members=event.group_members,
        escalated_after_seconds=event.waiting_seconds,
    )


def fold(view: RequestView, event: Message) -> RequestView:  # noqa: PLR0911, PLR0912 - one case per event type
    """The view after `event`; folding the same event again changes nothing."""
    view = _learn(view, event)
    if is_about_extension(event):
        return _fold_extension_event(view, event)
    if isinstance(event, ApprovalReminded | ApprovalEscalated):
        return _fold_nudge(view, event)
    match event:
        case SubmitRequest():
            return _advance(
                view,
                Phase.SUBMITTED,
                device_id=view.device_id or event.device_id,
                duration_seconds=view.duration_seconds or event.duration_seconds,
                reason=view.reason if view.reason is not None else event.reason,
                submitted_at=event.submitted_at,
            )
        case ApprovalRequested():
            return _advance(
                view,
                Phase.PENDING,
                profile_description=event.profile_description,
                device=event.device,
                device_id=event.device.node_id,
                duration_seconds=event.duration_seconds,
                reason=event.reason,
                approvers=event.approvers,
                approver_groups=event.approver_groups,
                group_members=event.group_members,
                approvals_required=event.approvals_required,
                request_expires_at=event.expires_at,
            )
        case ApprovalCounted():
            # a fact, whatever the phase: a late one still names who had approved
            return view.model_copy(
                update={
                    "approvals": merged(view.approvals, event.approvals),
                    "approvals_required": view.approvals_required or event.approvals_required,
                }
            )
        case RequestApproved():
            return _advance(
                view,
                Phase.APPROVED,
                device=event.device,
                device_id=event.device.node_id,
                attribute=event.attribute,
                duration_seconds=event.duration_seconds,
                reason=event.reason,
                approved_by=event.approvers,
                approval_mode=event.mode,
            )
        case GrantApplied():
            return _advance(
                view,
                Phase.ACTIVE,
                attribute=event.attribute,
                grant_expires_at=_later(view.grant_expires_at, event.expires_at),
            )
        case RequestDenied():
            return _advance(view, Phase.DENIED, denied_by=event.denied_by, deny_reason=event.reason)
        case RequestExpired():
            return _advance(view, Phase.EXPIRED, ended_at=event.expired_at)
        case RequestCancelled():
            return _advance(view, Phase.CANCELLED, ended_by=event.cancelled_by)
        case RequestRejected():
            return _advance(view, Phase.REJECTED, problems=event.problems)
        case GrantFailed():
            return _advance(
                view,
                Phase.FAILED,
                failure=event.message,
                failure_code=event.error_code,
                failure_retryable=event.retryable,
            )
        case GrantRevoked():
            return _advance(
                view,
                Phase.REVOKED,
                ended_at=event.revoked_at,
                ended_by=event.revoked_by,
                end_reason=event.reason,
                continues_under=event.continues_under,
                continues_until=event.continues_until,
            )
        case GrantExpired():
            return _advance(
                view,
                Phase.ENDED,
                ended_at=event.expired_at,
                continues_under=event.continues_under,
                continues_until=event.continues_until,
            )
    return view  # refusals change nothing about the request itself
