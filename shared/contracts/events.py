"""One pydantic model per subject of the ACCESS stream (docs/architecture.md: Commands and events).

Commands (`Command`, imperative: `SubmitRequest`) ask the owning service to act; events
(`Event`, past tense: `RequestApproved`) say what happened. The subjects and CloudEvents
types of the commands keep their first, past-tense names: SIEM rules match on them.
Each body carries `schema_version` and `request_id`. The event id, source and time
travel in the CloudEvents headers (see `shared.contracts.cloudevents`), not in the body.
The AsyncAPI document is generated from these models.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, PositiveInt

from shared.contracts.emails import Email
from shared.contracts.subjects import Subject
from shared.slack_limits import MAX_REASON

SCHEMA_VERSION: Literal[1] = 1
EXAMPLE_REQUEST_ID = "01JDQ3F8ZK6W2M9V1T4B7N5C0X"
EXAMPLE_EXTENSION_ID = "01JDQ4A2B3C4D5E6F7G8H9J0KM"
EXAMPLE_TIME = "2026-11-30T09:15:00Z"

ULID_PATTERN = r"^[0-9A-HJKMNP-TV-Z]{26}$"

RequestId = Annotated[
    str,
    Field(
        description="The access request this event belongs to (a ULID).",
        examples=[EXAMPLE_REQUEST_ID],
        pattern=ULID_PATTERN,
    ),
]
ExtensionId = Annotated[
    str,
    Field(
        description="One extension of an active grant (a ULID).",
        examples=[EXAMPLE_EXTENSION_ID],
        pattern=ULID_PATTERN,
    ),
]
ProfileId = Annotated[
    str,
    Field(
        description="The access profile's stable id from profiles.yaml.",
        examples=["prod"],
        min_length=1,
        max_length=64,
    ),
]
DeviceId = Annotated[
    str,
    Field(
        description="The Tailscale device's nodeId (preferred) or legacy numeric id.",
        examples=["n292kg92CNTRL"],
        min_length=1,
        max_length=64,
    ),
]
AttributeKey = Annotated[
    str,
    Field(
        description="The Tailscale custom posture attribute set by the grant.",
        examples=["custom:prodAccess"],
        pattern=r"^custom:[A-Za-z0-9_:]{1,43}$",
    ),
]
AttributeValue = Annotated[
    bool | int | str,
    Field(description="The attribute's value (bool, integer or string).", examples=[True]),
]
DurationSeconds = Annotated[
    PositiveInt,
    Field(description="A length of time in whole seconds.", examples=[3600]),
]
Reason = Annotated[
    str,
    Field(
        description="Why, in the words of the person who acted.",
        examples=["Investigating INC-4211"],
        max_length=MAX_REASON,
    ),
]
Timestamp = Annotated[
    AwareDatetime,
    Field(description="A moment in time (RFC 3339, with offset).", examples=[EXAMPLE_TIME]),
]


class Person(BaseModel):
    """Someone who acted or is asked to act, identified by email (what profiles.yaml uses)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    email: Email = Field(
        description="Email address as Slack reports it, stripped and lower-cased.",
        examples=["alice@example.com"],
    )
    slack_user_id: str | None = Field(
        default=None,
        description="Slack user id, when known.",
        examples=["U024BE7LH"],
    )
    name: str | None = Field(
        default=None, description="Display name, when known.", examples=["Alice Example"]
    )


MAX_GROUP_MEMBERS = 100
"""The most members of one Slack user group that may approve (a bigger group is refused
when a request is opened: `accessbot profiles check --online` names it first)."""
MAX_APPROVER_GROUPS = 10
MAX_NAMED_APPROVERS = 100
"""The most approvers a submission names (intake's cached names and Slack ids); the
others travel as emails and are shown as such."""
"""The most groups one profile's approvers (or escalation) may name (shared.profiles)."""


class ApproverGroup(BaseModel):
    """A Slack user group named as approvers, with its members as resolved by intake."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    group_id: str = Field(
        description="The Slack user group id from profiles.yaml.",
        examples=["S0614TZR7"],
        pattern=r"^S[A-Z0-9]{6,}$",
    )
    members: list[Email] = Field(
        default_factory=list,
        max_length=MAX_GROUP_MEMBERS,
        description="Members' emails when the request was opened: deactivated and bot "
        "users left out; empty when the group is disabled or unknown to Slack.",
        examples=[["carol@example.com"]],
    )


class DeviceSnapshot(BaseModel):
    """A device as read from the Tailscale API (KV `devices` value, and inside events)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    node_id: str = Field(description="Tailscale nodeId.", examples=["n292kg92CNTRL"])
    legacy_id: str | None = Field(
        default=None, description="Legacy numeric device id.", examples=["92960230385"]
    )
    name: str = Field(description="MagicDNS name.", examples=["alice-laptop.tail1234.ts.net"])
    hostname: str = Field(description="The device's hostname.", examples=["alice-laptop"])
    owner: str | None = Field(
        default=None,
        description="Owner login (usually an email); tagged devices have no human owner.",
        examples=["alice@example.com"],
    )
    tags: list[str] = Field(
        default_factory=list, description="ACL tags.", examples=[["tag:server"]]
    )
    os: str = Field(default="", description="Operating system.", examples=["macOS"])
    addresses: list[str] = Field(
        default_factory=list,
        description="Tailscale IP addresses.",
        examples=[["100.101.102.103", "fd7a:115c:a1e0::1"]],
    )
    last_seen: datetime | None = Field(
        default=None,
        description="Last time the device was seen; absent while connected.",
        examples=[EXAMPLE_TIME],
    )
    connected_to_control: bool | None = Field(
        default=None, description="Whether the device is connected now.", examples=[True]
    )
    authorized: bool | None = Field(
        default=None, description="Whether the device is authorized.", examples=[True]
    )

    @property
    def short_name(self) -> str:
        """What people are shown: the MagicDNS name's first label, unique in the tailnet
        (two devices may share a hostname: Tailscale names the second `host-1`), falling
        back to the hostname when there is no MagicDNS name."""
        return self.name.split(".", 1)[0] or self.hostname


class RuleWording(StrEnum):
    """Which rule refused a submission or an extension; the notifier words it."""

    UNKNOWN_DEVICE = "unknown_device"  # value: the device id
    UNKNOWN_PROFILE = "unknown_profile"  # value: the profile id
    TOO_LONG = "too_long"  # subject, seconds, limit_seconds
    REASON_REQUIRED = "reason_required"  # subject
    REASON_TOO_LONG = "reason_too_long"  # limit_count
    TAGGED_DEVICE = "tagged_device"  # value: the device name, subject
    NOT_YOUR_DEVICE = "not_your_device"  # value: the device name, subject
    OWN_APPROVAL = "own_approval"  # subject
    NOT_AN_APPROVER = "not_an_approver"  # value: the chosen email, subject
    TOO_FEW_APPROVERS = "too_few_approvers"  # subject, count (may approve), limit_count
    TOO_FEW_FOR_EXTENSION = "too_few_for_extension"
    NOBODY_DECIDED = "nobody_decided"  # seconds waited
    ALREADY_ACTIVE = "already_active"  # subject, value: the request whose grant is active
    ALREADY_REQUESTED = "already_requested"  # subject, value: the request pending or applying


class RuleFacts(BaseModel):
    """What a rule's refusal is made of (no sentence: the notifier words it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wording: RuleWording = Field(description="Which rule refused.", examples=["too_long"])
    subject: str | None = Field(
        default=None,
        description="The profile's description.",
        examples=["Production"],
        max_length=200,
    )
    value: str | None = Field(
        default=None,
        description="What was submitted: a device id or name, a profile id, an email.",
        examples=["alice-laptop"],
        max_length=320,
    )
    seconds: DurationSeconds | None = Field(
        default=None, description="The time asked for (or waited)."
    )
    limit_seconds: DurationSeconds | None = Field(
        default=None, description="The most the profile allows."
    )
    count: int | None = Field(
        default=None, ge=0, description="How many there are (people who may approve)."
    )
    limit_count: PositiveInt | None = Field(
        default=None, description="How many are needed, or the most allowed."
    )


class AutoApprovalHeld(StrEnum):
    """Why a request its profile's `auto_approve` covers went to approvers after all."""

    OUTSIDE_HOURS = "outside_hours"  # hours: the window it fell outside
    OVER_DAILY_BUDGET = "over_daily_budget"  # limit_count: max_per_day, day: whose day


class AutoApprovalFacts(BaseModel):
    """What the audit message says about an auto-approval that did not happen (the
    notifier words it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: AutoApprovalHeld = Field(
        description="Why approvers are asked.", examples=["outside_hours"]
    )
    hours: str | None = Field(
        default=None,
        description="The profile's `auto_approve.hours` window, as written.",
        examples=["Mon-Fri 08:00-18:00 Europe/Berlin"],
        max_length=200,
    )
    limit_count: PositiveInt | None = Field(
        default=None, description="The profile's `auto_approve.max_per_day`.", examples=[3]
    )
    day: str | None = Field(
        default=None,
        description="The day whose budget is spent (ISO date in the window's zone, else UTC).",
        examples=["2026-12-07"],
        max_length=10,
    )


class Problem(BaseModel):
    """One thing wrong with a submission."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    field: str = Field(description="The form field concerned.", examples=["duration"])
    message: str = Field(
        description="What is wrong in English, for SIEM readers; Slack users get the "
        "notifier's wording of `facts`.",
        examples=["8h is longer than this profile allows (4h)."],
    )
    facts: RuleFacts | None = Field(
        default=None, description="What the problem is made of; absent in older events."
    )


class Message(BaseModel):
    """Base of every ACCESS body: a `Command` or an `Event`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    SUBJECT: ClassVar[Subject]

    schema_version: Literal[1] = Field(
        default=SCHEMA_VERSION,
        description="Version of this body's schema; bumped on breaking change.",
        examples=[SCHEMA_VERSION],
    )
    request_id: RequestId


class Command(Message):
    """Asks the one service that owns the decision to act (imperative name); it may refuse.

    Intake publishes commands for what people clicked or submitted. The owner checks
    them again and answers with events, a refusal included.
    """


class Event(Message):
    """Says what happened (past-tense name); the service that decided publishes it."""


class RequestEvent(Event):
    """An event about a request whose requester and profile are known."""

    requester: Person = Field(description="Who asked for access.")
    profile_id: ProfileId


# --- commands published by intake --------------------------------------------------


class SubmitRequest(Command):
    """A user submitted the request form (intake validated it; approvals re-validates)."""

    SUBJECT: ClassVar[Subject] = Subject.REQUEST_SUBMITTED

    requester: Person = Field(description="Who asked for access.")
    profile_id: ProfileId

    device_id: DeviceId
    duration_seconds: DurationSeconds
    approver_email: Email | None = Field(
        default=None,
        description="The approver the requester chose; absent means any eligible approver.",
        examples=["bob@example.com"],
    )
    reason: Reason
    submitted_at: Timestamp
    approver_groups: list[ApproverGroup] = Field(
        default_factory=list,
        max_length=MAX_APPROVER_GROUPS,
        description="The profile's Slack user groups and their members, resolved by intake "
        "(which holds the Slack token) when the request was opened.",
    )
    approver_people: list[Person] = Field(
        default_factory=list,
        max_length=MAX_NAMED_APPROVERS,
        description="Approvers (and escalation's) as intake's form showed them, with their "
        "names and Slack ids, from its cache only (never waiting on Slack); anyone missing "
        "is shown by email.",
    )


class Decision(StrEnum):
    """What an approver chose."""

    APPROVE = "approve"
    DENY = "deny"


class DecideRequest(Command):
    """Someone pressed Approve or Deny (approvals decides whether it counts)."""

    SUBJECT: ClassVar[Subject] = Subject.DECISION_SUBMITTED

    decider: Person = Field(description="Who pressed the button.")
    decision: Decision = Field(description="Approve or deny.", examples=["approve"])
    reason: Reason | None = Field(default=None, description="Optional reason (given with a deny).")
    extension_id: ExtensionId | None = Field(
        default=None, description="Set when the decision is about an extension."
    )


class RevokeGrant(Command):
    """Someone pressed Revoke on an active grant (grants decides whether it counts)."""

    SUBJECT: ClassVar[Subject] = Subject.REVOKE_REQUESTED

    actor: Person = Field(description="Who pressed Revoke.")
    reason: Reason | None = Field(default=None, description="Optional reason.")


class ExtendGrant(Command):
    """The requester asked for more time on an active grant."""

    SUBJECT: ClassVar[Subject] = Subject.EXTEND_SUBMITTED

    extension_id: ExtensionId
    actor: Person = Field(description="Who asked for the extension.")
    additional_seconds: DurationSeconds
    reason: Reason


class CancelRequest(Command):
    """The requester pressed Cancel on a pending request."""

    SUBJECT: ClassVar[Subject] = Subject.CANCEL_REQUESTED

    actor: Person = Field(description="Who pressed Cancel.")


class PublishHome(Command):
    """Someone opened the app's Home tab: the notifier (re)publishes it (views.publish).

    Not about one request: `request_id` is this command's own id (a ULID intake derives
    from Slack's event id, so a redelivered `app_home_opened` is dropped as a duplicate).
    """

    SUBJECT: ClassVar[Subject] = Subject.HOME_REQUESTED

    person: Person = Field(description="Whose Home tab to publish (Slack user id and email).")


# --- events published by approvals -------------------------------------------------


class ApprovalMode(StrEnum):
    """How a request came to be approved."""

    QUORUM = "quorum"
    SELF = "self"
    BREAK_GLASS = "break_glass"
    AUTO = "auto"


class ApprovalRequested(RequestEvent):
    """These approvers must be asked (for a request, or for an extension)."""

    SUBJECT: ClassVar[Subject] = Subject.APPROVAL_REQUESTED

    profile_description: str = Field(description="What Slack shows.", examples=["Production"])
    device: DeviceSnapshot = Field(description="The device, from KV `devices`.")
    duration_seconds: DurationSeconds
    reason: Reason
    approvers: list[Person] = Field(description="Who is asked.", min_length=1)
    approvals_required: PositiveInt = Field(description="Distinct approvals needed.", examples=[1])
    expires_at: Timestamp = Field(description="When the request expires unanswered.")
    extension_id: ExtensionId | None = Field(
        default=None, description="Set when asking about an extension of an active grant."
    )
    additional_seconds: DurationSeconds | None = Field(
        default=None, description="For an extension: how much more time is asked."
    )
    auto_approval: AutoApprovalFacts | None = Field(
        default=None,
        description="Set when `auto_approve` covered the requester and duration but did not "
        "apply (outside its hours, or its daily budget spent).",
    )
    approver_groups: list[str] = Field(
        default_factory=list,
        max_length=MAX_APPROVER_GROUPS,
        description="Slack user group ids some of the approvers were asked through.",
        examples=[["S0614TZR7"]],
    )
    group_members: list[ApproverGroup] = Field(
        default_factory=list,
        max_length=MAX_APPROVER_GROUPS,
        description="The members of each of `approver_groups` when the request was opened, "
        "so messages can say who was asked through which group; empty in older events.",
    )


class ApprovalReminded(RequestEvent):
    """Approvers who had not decided were reminded (the profile's `remind_after`)."""

    SUBJECT: ClassVar[Subject] = Subject.APPROVAL_REMINDED

    approvers: list[Person] = Field(
        description="Who is reminded: those asked who have not decided yet.", min_length=1
    )
    reminder: PositiveInt = Field(description="Which reminder this is (1 first).", examples=[1])
    max_reminders: PositiveInt = Field(
        description="How many reminders the request sends at most.", examples=[2]
    )
    waiting_seconds: DurationSeconds = Field(
        description="How long the request had been waiting when reminded."
    )
    expires_at: Timestamp = Field(description="When the request expires unanswered.")


class ApprovalEscalated(RequestEvent):
    """Nobody decided within the profile's `escalate_after`: its `escalate_to` fallback
    approvers may decide from now on and are asked."""

    SUBJECT: ClassVar[Subject] = Subject.APPROVAL_ESCALATED

    profile_description: str = Field(description="What Slack shows.", examples=["Production"])
    device: DeviceSnapshot = Field(description="The device, from KV `devices`.")
    duration_seconds: DurationSeconds
    reason: Reason
    approvers: list[Person] = Field(
        description="The fallback approvers added and asked; empty when nobody else may "
        "decide (e.g. the only fallback approver is the requester)."
    )
    approver_groups: list[str] = Field(
        default_factory=list,
        max_length=MAX_APPROVER_GROUPS,
        description="Slack user group ids of `escalate_to` some of them were asked through.",
        examples=[["S0614TZR7"]],
    )
    group_members: list[ApproverGroup] = Field(
        default_factory=list,
        max_length=MAX_APPROVER_GROUPS,
        description="The members of each of `approver_groups` when the request was opened; "
        "empty in older events.",
    )
    approvals_required: PositiveInt = Field(description="Distinct approvals needed.", examples=[1])
    waiting_seconds: DurationSeconds = Field(
        description="How long the request had been waiting when escalated."
    )
    expires_at: Timestamp = Field(description="When the request expires unanswered.")


class ApprovalCounted(RequestEvent):
    """An approval counted without deciding: the quorum (`approvals_required`) is not
    reached yet. A deny always decides, so only approvals are counted this way."""

    SUBJECT: ClassVar[Subject] = Subject.APPROVAL_COUNTED

    approver: Person = Field(description="Whose approval was just counted.")
    approvals: list[Person] = Field(
        description="Every approval counted so far, in the order given (this one last); "
        "fewer than `approvals_required`.",
        min_length=1,
        max_length=MAX_GROUP_MEMBERS * MAX_APPROVER_GROUPS,
    )
    approvals_required: PositiveInt = Field(description="Distinct approvals needed.", examples=[2])
    extension_id: ExtensionId | None = Field(
        default=None, description="Set when the approval is for an extension of an active grant."
    )


class RequestApproved(RequestEvent):
    """Enough valid approvals were given (or none were needed)."""

    SUBJECT: ClassVar[Subject] = Subject.REQUEST_APPROVED

    device: DeviceSnapshot = Field(description="The device, from KV `devices`.")
    attribute: AttributeKey
    value: AttributeValue
    duration_seconds: DurationSeconds
    reason: Reason
    approvers: list[Person] = Field(description="Who approved (empty for auto-approval).")
    mode: ApprovalMode = Field(description="How it was approved.", examples=["quorum"])
    approved_at: Timestamp


class RequestDenied(RequestEvent):
    """An eligible approver denied the request."""

    SUBJECT: ClassVar[Subject] = Subject.REQUEST_DENIED

    denied_by: Person = Field(description="Who denied.")
    reason: Reason | None = Field(default=None, description="Their reason, if given.")


class RequestExpired(RequestEvent):
    """Nobody decided within the profile's request TTL."""

    SUBJECT: ClassVar[Subject] = Subject.REQUEST_EXPIRED

    expired_at: Timestamp


class RequestCancelled(RequestEvent):
    """The requester withdrew a pending request."""

    SUBJECT: ClassVar[Subject] = Subject.REQUEST_CANCELLED

    cancelled_by: Person = Field(description="Who cancelled (the requester).")


class RequestRejected(Event):
    """The submission failed re-validation; nothing was asked or granted."""

    SUBJECT: ClassVar[Subject] = Subject.REQUEST_REJECTED

    requester: Person = Field(description="Who submitted.")
    profile_id: str = Field(description="The profile id as submitted (may be unknown).")
    problems: list[Problem] = Field(description="Every problem found.", min_length=1)


class RefusalReason(StrEnum):
    """Why a click did not count."""

    UNKNOWN_REQUEST = "unknown_request"
    NOT_ELIGIBLE = "not_eligible"
    NOT_PENDING = "not_pending"
    ALREADY_DECIDED = "already_decided"
    SELF_APPROVAL_NOT_ALLOWED = "self_approval_not_allowed"
    NOT_REQUESTER = "not_requester"
    NOT_ACTIVE = "not_active"
    OVER_LIMIT = "over_limit"


class RefusalWording(StrEnum):
    """Which explanation a refused click gets; the notifier words it from `RefusalFacts`."""

    UNKNOWN_REQUEST = "unknown_request"
    UNKNOWN_EXTENSION = "unknown_extension"
    NOT_PENDING = "not_pending"  # state
    OWN_REQUEST = "own_request"  # subject
    NOT_APPROVER = "not_approver"  # subject
    PROFILE_GONE = "profile_gone"  # subject: the profile id
    ALREADY_DECIDED = "already_decided"
    ONLY_REQUESTER = "only_requester"  # worded by the action (cancel, extend)
    NOTHING_ACTIVE = "nothing_active"  # worded by the action (extend, revoke)
    ACCESS_ENDED = "access_ended"
    EXTENSION_WAITING = "extension_waiting"
    OVER_ONE_EXTENSION = "over_one_extension"  # subject, seconds, limit_seconds
    OVER_TOTAL = "over_total"  # subject, seconds (the total), limit_seconds
    MAY_NOT_REVOKE = "may_not_revoke"  # subject
    NOT_ACTIVE_ANY_MORE = "not_active_any_more"  # state


class RefusalFacts(BaseModel):
    """What the explanation of a refusal is made of (no sentence: the notifier words it)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    wording: RefusalWording = Field(
        description="Which explanation applies.", examples=["not_approver"]
    )
    subject: str | None = Field(
        default=None,
        description="What was clicked about: the profile's description (or id).",
        examples=["Production"],
        max_length=200,
    )
    state: str | None = Field(
        default=None,
        description="The request's, extension's or grant's state when refused.",
        examples=["approved"],
        max_length=32,
    )
    seconds: DurationSeconds | None = Field(
        default=None, description="The time asked for (or the total it would make)."
    )
    limit_seconds: DurationSeconds | None = Field(
        default=None, description="The most the profile allows."
    )


class DecisionRefused(Event):
    """A click that does not count; the clicker is told why."""

    SUBJECT: ClassVar[Subject] = Subject.DECISION_REFUSED

    actor: Person = Field(description="Who clicked.")
    action: Literal["approve", "deny", "cancel", "extend"] = Field(
        description="What they tried.", examples=["approve"]
    )
    code: RefusalReason = Field(description="Machine-readable reason.", examples=["not_eligible"])
    message: str = Field(
        description="The explanation in English, for SIEM readers; Slack users get the "
        "notifier's wording of `facts`.",
        examples=["You are not an approver for Production."],
    )
    extension_id: ExtensionId | None = Field(default=None, description="For extensions.")
    facts: RefusalFacts | None = Field(
        default=None, description="What the explanation is made of; absent in older events."
    )


class ExtensionApproved(RequestEvent):
    """An extension of an active grant was approved."""

    SUBJECT: ClassVar[Subject] = Subject.EXTENSION_APPROVED

    extension_id: ExtensionId
    additional_seconds: DurationSeconds
    approvers: list[Person] = Field(description="Who approved (empty for auto/self).")


class ExtensionDenied(RequestEvent):
    """An extension of an active grant was denied."""

    SUBJECT: ClassVar[Subject] = Subject.EXTENSION_DENIED

    extension_id: ExtensionId
    denied_by: Person | None = Field(
        default=None, description="Who denied; absent when a rule refused it."
    )
    reason: Reason | None = Field(
        default=None,
        description="Why: the person's words, or the rule's in English (for SIEM readers).",
    )
    facts: RuleFacts | None = Field(
        default=None, description="When a rule refused it: which, for the notifier to word."
    )


# --- events published by grants ----------------------------------------------------


class GrantEvent(RequestEvent):
    """An event about the attribute on a device."""

    device_id: DeviceId
    attribute: AttributeKey


class GrantApplied(GrantEvent):
    """The attribute is set on the device, with its real expiry."""

    SUBJECT: ClassVar[Subject] = Subject.GRANT_APPLIED

    value: AttributeValue
    expires_at: Timestamp = Field(description="When access ends (computed when applied).")
    applied_at: Timestamp


class GrantFailed(GrantEvent):
    """The attribute could not be set (or moved); never silent."""

    SUBJECT: ClassVar[Subject] = Subject.GRANT_FAILED

    error_code: str = Field(
        description="Machine-readable failure class.",
        examples=["tailscale_rejected", "retries_exhausted"],
    )
    message: str = Field(
        description="What happened and what to do, for a person.",
        examples=["Tailscale answered 400: invalid attribute value."],
    )
    status_code: int | None = Field(
        default=None, description="Last HTTP status from Tailscale, if any.", examples=[400]
    )
    retryable: bool = Field(
        default=True,
        description=(
            "Whether asking again later may succeed (Tailscale was rate limiting, failing or "
            "unreachable). False when retrying cannot help until someone fixes the cause "
            "(a rejected value, a type clash, refused credentials, a grant no longer active); "
            "`error_code` names it. Absent in older events: true."
        ),
        examples=[False],
    )
    extension_id: ExtensionId | None = Field(
        default=None, description="Set when an extension could not be applied."
    )


class GrantExtended(GrantEvent):
    """The grant's expiry moved (after an approved extension)."""

    SUBJECT: ClassVar[Subject] = Subject.GRANT_EXTENDED

    extension_id: ExtensionId
    expires_at: Timestamp = Field(description="The new expiry.")
    previous_expires_at: Timestamp = Field(description="The expiry before the extension.")


class GrantEnded(GrantEvent):
    """A grant that ended; the attribute may stay for another grant on the same device.

    A posture attribute is one value with one expiry per device, shared by every active
    grant of that attribute on the device: it goes only when the last of them ends.
    """

    continues_under: str | None = Field(
        default=None,
        description=(
            "Another active grant (its request id) of the same attribute on the same device "
            "that keeps the attribute set; absent when the attribute was removed."
        ),
        examples=["01JDQ5B7C8D9E0F1G2H3J4K5MN"],
        pattern=ULID_PATTERN,
    )
    continues_until: AwareDatetime | None = Field(
        default=None,
        description="When the attribute now ends (the latest end of the remaining grants).",
        examples=["2026-11-30T12:15:00Z"],
    )


class GrantRevoked(GrantEnded):
    """The grant was ended early; its attribute removed unless another grant holds it."""

    SUBJECT: ClassVar[Subject] = Subject.GRANT_REVOKED

    revoked_by: Person = Field(description="Who revoked.")
    reason: Reason | None = Field(default=None, description="Their reason, if given.")
    revoked_at: Timestamp


class GrantExpired(GrantEnded):
    """The grant's time is over; its attribute removed unless another grant holds it."""

    SUBJECT: ClassVar[Subject] = Subject.GRANT_EXPIRED

    expired_at: Timestamp


class RevokeRefused(Event):
    """A revoke from someone not allowed to (or of nothing active)."""

    SUBJECT: ClassVar[Subject] = Subject.REVOKE_REFUSED

    actor: Person = Field(description="Who pressed Revoke.")
    code: RefusalReason = Field(description="Machine-readable reason.", examples=["not_eligible"])
    message: str = Field(
        description="The explanation in English, for SIEM readers; Slack users get the "
        "notifier's wording of `facts`.",
        examples=["Only the requester, an approver of Production or an admin may revoke."],
    )
    facts: RefusalFacts | None = Field(
        default=None, description="What the explanation is made of; absent in older events."
    )


# --- published by any service that consumes ------------------------------------------


class DeliveryDeadLettered(Event):
    """A message one consumer failed to handle on every allowed delivery; it is kept in
    the DEADLETTER stream until the admin replays it (`accessbot deadletter replay`)."""

    SUBJECT: ClassVar[Subject] = Subject.DELIVERY_DEADLETTERED

    service: str = Field(
        description="The service whose consumer gave up.", examples=["notifier"], max_length=64
    )
    consumer: str = Field(
        description="The durable consumer that gave up.",
        examples=["notifier_request_submitted"],
        max_length=128,
    )
    subject: str = Field(
        description="The subject of the dead-lettered message.",
        examples=["access.request.submitted"],
        max_length=256,
    )
    event_id: str | None = Field(
        default=None,
        description="The dead-lettered message's ce-id (absent for a due timer); "
        "what `accessbot deadletter replay` takes.",
        examples=["01JDQ3F9A1B2C3D4E5F6G7H8J9"],
        max_length=64,
    )
    stream: str = Field(description="The stream the message is in.", examples=["ACCESS"])
    stream_sequence: PositiveInt = Field(
        description="The message's sequence in that stream.", examples=[42]
    )
    deliveries: PositiveInt = Field(
        description="How many times it was delivered before the consumer gave up.",
        examples=[20],
    )
    last_error: str = Field(
        description="The last error, as the handler raised it (clipped).",
        examples=["SlackObjectFormationError: text must be at most 3000 characters"],
        max_length=2000,
    )
    profile_id: str | None = Field(
        default=None,
        description="The request's profile, when the message names it.",
        examples=["prod"],
        max_length=64,
    )


COMMAND_TYPES: dict[Subject, type[Command]] = {
    model.SUBJECT: model
    for model in (
        SubmitRequest,
        DecideRequest,
        RevokeGrant,
        ExtendGrant,
        CancelRequest,
        PublishHome,
    )
}
"""Subject -> command model: what intake asks of approvals and grants."""

EVENT_TYPES: dict[Subject, type[Event]] = {
    model.SUBJECT: model
    for model in (
        ApprovalRequested,
        ApprovalReminded,
        ApprovalEscalated,
        ApprovalCounted,
        RequestApproved,
        RequestDenied,
        RequestExpired,
        RequestCancelled,
        RequestRejected,
        DecisionRefused,
        ExtensionApproved,
        ExtensionDenied,
        GrantApplied,
        GrantFailed,
        GrantExtended,
        GrantRevoked,
        GrantExpired,
        RevokeRefused,
        DeliveryDeadLettered,
    )
}
"""Subject -> event model: what the services say happened."""

MESSAGE_TYPES: dict[Subject, type[Message]] = {**COMMAND_TYPES, **EVENT_TYPES}
"""Subject -> body model of the whole ACCESS stream; a test checks it covers every Subject once."""
