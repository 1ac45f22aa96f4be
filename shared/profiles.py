"""Access profiles (profiles.yaml): schema, loading, and problems named precisely.

An invalid file stops startup: every problem names the file, the profile and the field.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from shared.contracts.emails import Email, normalise_email
from shared.durations import format_duration, parse_duration
from shared.hours import Hours, parse_hours

ATTRIBUTE_KEY_MAX = 50
ATTRIBUTE_STRING_MAX = 50
ATTRIBUTE_INT_MAX = 2**53 - 1
_KEY_RE = re.compile(r"^custom:[A-Za-z0-9_:]+$")
_STRING_VALUE_RE = re.compile(r"^[A-Za-z0-9_.]+$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CHANNEL_RE = re.compile(r"^[CG][A-Z0-9]{6,}$")
AUTO_MAX_PER_DAY_LIMIT = 100  # request ids one day's budget record holds at most
SLACK_GROUP_RE = re.compile(r"^S[A-Z0-9]{6,}$")
MAX_SLACK_GROUPS = 10  # per list; each is one usergroups.users.list call (Tier 2) per cache expiry
MAX_REMINDERS_LIMIT = 10  # reminders one request may send at most (`max_reminders`)
DEFAULT_MAX_REMINDERS = 2

GroupMembers = Mapping[str, Sequence[str]]
"""Slack user group id -> its members' emails, as resolved when a request was opened."""


def _duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("a duration such as 30m, 8h or 1d is expected")
    if isinstance(value, int):
        return timedelta(seconds=value)
    if isinstance(value, str):
        return parse_duration(value)
    raise ValueError("a duration such as 30m, 8h or 1d is expected")


Duration = Annotated[timedelta, BeforeValidator(_duration)]


def check_attribute_key(key: str) -> str:
    """Tailscale's rules for a custom posture attribute key."""
    if not key.startswith("custom:"):
        raise ValueError(f"{key!r} must start with 'custom:'")
    if len(key) > ATTRIBUTE_KEY_MAX:
        raise ValueError(f"{key!r} is longer than {ATTRIBUTE_KEY_MAX} characters")
    if not _KEY_RE.match(key) or key == "custom:":
        raise ValueError(f"{key!r} may hold only letters, digits, '_' and ':' after 'custom:'")
    return key


def check_attribute_value(value: bool | int | str) -> bool | int | str:
    """Tailscale's rules for a posture attribute value."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if not 0 <= value <= ATTRIBUTE_INT_MAX:
            raise ValueError(f"integer value {value} is outside 0..2^53-1")
        return value
    if len(value) > ATTRIBUTE_STRING_MAX:
        raise ValueError(f"string value is longer than {ATTRIBUTE_STRING_MAX} characters")
    if not _STRING_VALUE_RE.match(value):
        raise ValueError(f"string value {value!r} may hold only letters, digits, '_' and '.'")
    return value


@dataclass(frozen=True)
class _Facts:
    """What the cross-field rules read of one profile; None where the file's value is unusable
    (so a field problem, reported on its own, does not hide or fake a cross-field one)."""

    name: str
    id: str | None
    attribute: str | None
    max_duration: timedelta | None
    max_total_duration: timedelta | None
    auto_max_duration: timedelta | None
    request_ttl: timedelta | None = None
    remind_after: timedelta | None = None
    escalate_after: timedelta | None = None


def approver_problems(
    *, approvers: int | None, approvals_required: int | None, break_glass: bool | None,
    auto_approve: bool, auto_guarded: bool = False, groups: int = 0,
) -> list[str]:  # fmt: skip
    """Rules between a profile's approver fields; each message starts with its field.

    `auto_guarded`: `auto_approve` sets `hours` or `max_per_day`, past which people decide.
    A group's size is known only when a request is opened, so with `slack_groups` the
    quorum is checked then (too few members: the request is rejected, saying so)."""
    problems: list[str] = []
    nobody = approvers == 0 and groups == 0 and break_glass is False
    if nobody and auto_guarded:
        problems.append(
            "approvers: no emails and no slack_groups, so nobody could approve outside "
            "auto_approve's hours or past its max_per_day"
        )
    elif nobody and not auto_approve:
        problems.append(
            "approvers: no emails and no slack_groups, so nobody could approve this profile"
        )
    if (
        approvers
        and groups == 0
        and approvals_required is not None
        and approvals_required > approvers
    ):
        problems.append(
            f"approvals_required: {approvals_required} exceeds the {approvers} approvers listed"
        )
    return problems


def cross_profile_problems(profiles: list[_Facts]) -> list[str]:
    """Rules across profiles and between durations, each line naming profile and field."""
    seen_ids: set[str] = set()
    seen_attrs: dict[str, str] = {}
    problems: list[str] = []
    for p in profiles:
        if p.id is not None:
            if p.id in seen_ids:
                problems.append(f"profile {p.name}: id: duplicate id")
            seen_ids.add(p.id)
        if p.attribute is not None:
            key = p.attribute.lower()
            if key in seen_attrs:
                problems.append(
                    f"profile {p.name}: attribute: {p.attribute!r} is already used by "
                    f"profile {seen_attrs[key]} (keys are unique case-insensitively)"
                )
            seen_attrs.setdefault(key, p.name)
        problems.extend(_before_ttl_problems(p))
        if p.max_duration is None:
            continue
        if p.auto_max_duration is not None and p.auto_max_duration > p.max_duration:
            problems.append(
                f"profile {p.name}: auto_approve.max_duration: "
                f"{format_duration(p.auto_max_duration)} exceeds max_duration "
                f"{format_duration(p.max_duration)}"
            )
        if p.max_total_duration is not None and p.max_total_duration < p.max_duration:
            problems.append(
                f"profile {p.name}: max_total_duration: "
                f"{format_duration(p.max_total_duration)} is shorter than max_duration "
                f"{format_duration(p.max_duration)}"
            )
    return problems


def _before_ttl_problems(p: _Facts) -> list[str]:
    """Reminders and escalation happen while a request is pending, so before its TTL ends
    it (after that they would never fire)."""
    if p.request_ttl is None:
        return []
    ttl = format_duration(p.request_ttl)
    return [
        f"profile {p.name}: {field}: {format_duration(after)} is not shorter than "
        f"request_ttl {ttl}, so it would never happen (the request expires first)"
        for field, after in (("remind_after", p.remind_after), ("escalate_after", p.escalate_after))
        if after is not None and after >= p.request_ttl
    ]


def escalation_problems(
    *, remind_after: bool, max_reminders: bool, escalate_after: bool,
    escalate_to: bool | None, escalate_to_anyone: bool,
) -> list[str]:  # fmt: skip
    """Rules between the reminder and escalation fields (which are set); each message starts
    with its field. `escalate_to` None: present but unreadable (reported on its own)."""
    problems: list[str] = []
    if max_reminders and not remind_after:
        problems.append("max_reminders: set without remind_after, so no reminder is ever sent")
    if escalate_after and escalate_to is False:
        problems.append("escalate_after: set without escalate_to, so nobody would be asked")
    if escalate_to and not escalate_after:
        problems.append("escalate_to: set without escalate_after, so it would never happen")
    if escalate_to and not escalate_to_anyone:
        problems.append("escalate_to: no emails and no slack_groups, so nobody would be asked")
    return problems


class SelfApproval(StrEnum):
    """Whether the requester may approve their own request."""

    NEVER = "never"
    ALLOWED = "allowed"  # approved at once when the requester picks themselves
    CONFIRM = "confirm"  # the requester is asked like an approver


class DeviceScope(StrEnum):
    """Which devices a requester may ask for."""

    OWN = "own"  # the requester's own untagged devices
    ANY = "any"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Approvers(_Strict):
    """Who may approve."""

    emails: list[Email] = Field(default_factory=list, description="Eligible approvers.")
    slack_groups: list[str] = Field(
        default_factory=list,
        max_length=MAX_SLACK_GROUPS,
        description="Slack user group ids (S…) whose members approve; resolved when a "
        "request is opened (disabled groups, deactivated and bot users left out).",
    )

    @field_validator("slack_groups")
    @classmethod
    def _group_ids(cls, value: list[str]) -> list[str]:
        for group in value:
            if not SLACK_GROUP_RE.match(group):
                raise ValueError(f"{group!r} is not a Slack user group id (S… in capitals)")
        if len(set(value)) != len(value):
            raise ValueError("slack_groups repeat")
        return value

    @model_validator(mode="after")
    def _unique(self) -> Self:
        if len(set(self.emails)) != len(self.emails):
            raise ValueError("approver emails repeat")
        return self


class AutoApprove(_Strict):
    """Requests that need no human approval (docs/architecture.md, "Profiles")."""

    max_duration: Duration
    requesters: list[Email] = Field(min_length=1)
    max_per_day: PositiveInt | None = Field(
        default=None,
        le=AUTO_MAX_PER_DAY_LIMIT,
        description="Auto-approved requests per requester and profile per day (the day of "
        "`hours`' zone, else UTC); beyond it approvers are asked.",
    )
    hours: str | None = Field(
        default=None,
        description="When auto-approval applies, e.g. 'Mon-Fri 08:00-18:00 Europe/Berlin' "
        "(shared/hours.py); outside it approvers are asked.",
    )

    @field_validator("hours")
    @classmethod
    def _hours(cls, value: str | None) -> str | None:
        if value is not None:
            parse_hours(value)
        return value

    def window(self) -> Hours | None:
        """`hours` parsed (validated when loaded, so this cannot fail)."""
        return parse_hours(self.hours) if self.hours is not None else None


class Defaults(_Strict):
    """Values a profile takes when it does not set them."""

    request_ttl: Duration = timedelta(hours=1)
    max_duration: Duration = timedelta(hours=24)


class Profile(_Strict):
    """One thing that can be asked for."""

    id: str
    description: str = Field(min_length=1, max_length=75)
    attribute: str
    value: bool | int | str = True
    max_duration: Duration | None = None
    max_total_duration: Duration | None = Field(
        default=None,
        description="Upper bound of a grant's total time including extensions "
        "(default: twice max_duration).",
    )
    approvers: Approvers = Field(default_factory=Approvers)
    approvals_required: PositiveInt = 1
    self_approval: SelfApproval = SelfApproval.NEVER
    break_glass: bool = False
    devices: DeviceScope = DeviceScope.OWN
    require_reason: bool = True
    notify_channels: list[str] = Field(default_factory=list)
    request_ttl: Duration | None = None
    auto_approve: AutoApprove | None = None
    remind_after: Duration | None = Field(
        default=None,
        description="Remind approvers who have not decided this long after the request was "
        "opened, and again every as long, at most `max_reminders` times.",
    )
    max_reminders: int | None = Field(
        default=None,
        ge=1,
        le=MAX_REMINDERS_LIMIT,
        description=f"Reminders per request at most (default {DEFAULT_MAX_REMINDERS}).",
    )
    escalate_after: Duration | None = Field(
        default=None,
        description="Ask `escalate_to` too when nobody decided this long after the request "
        "was opened.",
    )
    escalate_to: Approvers | None = Field(
        default=None,
        description="Fallback approvers: eligible only once the request is escalated.",
    )

    @field_validator("id")
    @classmethod
    def _slug(cls, value: str) -> str:
        if not _SLUG_RE.match(value):
            raise ValueError(f"{value!r} must be a lowercase slug (a-z, 0-9, '-', '_'; 64 at most)")
        return value

    @field_validator("attribute")
    @classmethod
    def _key(cls, value: str) -> str:
        return check_attribute_key(value)

    @field_validator("value")
    @classmethod
    def _value(cls, value: bool | int | str) -> bool | int | str:
        return check_attribute_value(value)

    @field_validator("notify_channels")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        for channel in value:
            if not _CHANNEL_RE.match(channel):
                raise ValueError(f"{channel!r} is not a Slack channel id (C… or G…)")
        return value

    @field_validator(
        "max_duration", "max_total_duration", "request_ttl", "remind_after", "escalate_after"
    )
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @model_validator(mode="after")
    def _approvers_can_decide(self) -> Self:
        # Model-level messages start with the field they concern (see _locate).
        problems = approver_problems(
            approvers=len(self.approvers.emails),
            approvals_required=self.approvals_required,
            break_glass=self.break_glass,
            auto_approve=self.auto_approve is not None,
            auto_guarded=self.auto_approve is not None
            and (self.auto_approve.hours is not None or self.auto_approve.max_per_day is not None),
            groups=len(self.approvers.slack_groups),
        )
        problems += escalation_problems(
            remind_after=self.remind_after is not None,
            max_reminders=self.max_reminders is not None,
            escalate_after=self.escalate_after is not None,
            escalate_to=self.escalate_to is not None,
            escalate_to_anyone=self.escalate_to is not None
            and bool(self.escalate_to.emails or self.escalate_to.slack_groups),
        )
        if len(self.slack_groups()) > MAX_SLACK_GROUPS:
            problems.append(
                f"escalate_to.slack_groups: {len(self.slack_groups())} groups with "
                f"approvers.slack_groups, the most is {MAX_SLACK_GROUPS} (each is resolved "
                "when a request is opened)"
            )
        if problems:
            raise ValueError("\n".join(problems))
        return self

    @property
    def reminders_allowed(self) -> int:
        """How many reminders a request of this profile sends at most (0: none)."""
        if self.remind_after is None:
            return 0
        return self.max_reminders or DEFAULT_MAX_REMINDERS

    def slack_groups(self) -> list[str]:
        """Every Slack user group whose members intake resolves when a request is opened:
        the approvers' groups, then the escalation's (each once)."""
        fallback = self.escalate_to.slack_groups if self.escalate_to is not None else []
        return list(dict.fromkeys([*self.approvers.slack_groups, *fallback]))

    # -- rights: defined here once; intake, approvals and grants all ask these ----------

    def is_approver(self, email: str, groups: GroupMembers | None = None) -> bool:
        """Listed under `approvers.emails`, or a member (in `groups`, resolved when the
        request was opened) of a group `approvers.slack_groups` lists now."""
        address = normalise_email(email)
        if address in self.approvers.emails:
            return True
        members = groups or {}
        return any(address in members.get(g, ()) for g in self.approvers.slack_groups)

    def is_fallback_approver(self, email: str, groups: GroupMembers | None = None) -> bool:
        """Listed under `escalate_to.emails`, or a member (in `groups`, resolved when the
        request was opened) of a group `escalate_to.slack_groups` lists now."""
        if self.escalate_to is None:
            return False
        address = normalise_email(email)
        if address in self.escalate_to.emails:
            return True
        members = groups or {}
        return any(address in members.get(g, ()) for g in self.escalate_to.slack_groups)

    def may_decide(
        self,
        email: str,
        *,
        requester: str,
        groups: GroupMembers | None = None,
        escalated: bool = False,
    ) -> bool:
        """Whether this person's Approve or Deny counts on `requester`'s request: an
        approver (listed, or by `groups`) or, only once the request is `escalated`, a
        fallback approver of `escalate_to`; and not the requester unless self-approval is
        `allowed` or `confirm`."""
        approver = self.is_approver(email, groups)
        if not approver and not (escalated and self.is_fallback_approver(email, groups)):
            return False
        own = normalise_email(email) == normalise_email(requester)
        return not own or self.self_approval is not SelfApproval.NEVER

    def eligible_approvers(self, requester: str, groups: GroupMembers | None = None) -> list[str]:
        """Everyone whose decision counts on `requester`'s request: the listed emails in
        profiles.yaml order, then the members of each listed group in `groups` (each once)."""
        members = groups or {}
        candidates = [*self.approvers.emails]
        for group in self.approvers.slack_groups:
            candidates.extend(normalise_email(e) for e in members.get(group, ()))
        unique = list(dict.fromkeys(candidates))
        return [e for e in unique if self.may_decide(e, requester=requester, groups=groups)]

    def fallback_approvers(self, requester: str, groups: GroupMembers | None = None) -> list[str]:
        """Who escalation adds: `escalate_to`'s emails, then its groups' members in `groups`,
        each once, leaving out the approvers already eligible and anyone who could not
        decide once escalated (the requester, unless self-approval allows it)."""
        if self.escalate_to is None:
            return []
        members = groups or {}
        candidates = [*self.escalate_to.emails]
        for group in self.escalate_to.slack_groups:
            candidates.extend(normalise_email(e) for e in members.get(group, ()))
        already = set(self.eligible_approvers(requester, groups))
        return [
            e
            for e in dict.fromkeys(candidates)
            if e not in already
            and self.may_decide(e, requester=requester, groups=groups, escalated=True)
        ]


class ProfilesConfig(_Strict):
    """The whole profiles.yaml."""

    admins: list[Email] = Field(default_factory=list)
    defaults: Defaults = Field(default_factory=Defaults)
    profiles: list[Profile] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        facts = [
            _Facts(
                name=repr(p.id),
                id=p.id,
                attribute=p.attribute,
                max_duration=self.max_duration(p),
                max_total_duration=self.max_total_duration(p),
                auto_max_duration=p.auto_approve.max_duration if p.auto_approve else None,
                request_ttl=self.request_ttl(p),
                remind_after=p.remind_after,
                escalate_after=p.escalate_after,
            )
            for p in self.profiles
        ]
        problems = cross_profile_problems(facts)
        if problems:
            raise ValueError("\n".join(problems))
        return self

    def get(self, profile_id: str) -> Profile | None:
        """The profile with this id, if any."""
        return next((p for p in self.profiles if p.id == profile_id), None)

    def max_duration(self, profile: Profile) -> timedelta:
        """The longest single grant the profile allows."""
        return profile.max_duration or self.defaults.max_duration

    def max_total_duration(self, profile: Profile) -> timedelta:
        """The longest total grant including extensions."""
        return profile.max_total_duration or 2 * self.max_duration(profile)

    def request_ttl(self, profile: Profile) -> timedelta:
        """How long a request of this profile may stay pending."""
        return profile.request_ttl or self.defaults.request_ttl

    def is_admin(self, email: str) -> bool:
        """Admins may revoke any grant."""
        return normalise_email(email) in self.admins

    def may_revoke(self, email: str, *, requester: str, profile_id: str) -> bool:
        """The requester, an approver of the grant's profile or an admin may end a grant.

        Judged by profiles.yaml as loaded now, not as it was when the grant began: someone
        removed from it loses the right (see docs/architecture.md, Contracts).
        """
        if normalise_email(email) == normalise_email(requester) or self.is_admin(email):
            return True
        profile = self.get(profile_id)
        return profile is not None and profile.is_approver(email)


class ProfilesError(Exception):
    """profiles.yaml is unreadable or invalid; `problems` names each one."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))

    def one_line(self) -> str:
        """The first problem, and where to see the others (for a service that cannot start)."""
        first = f"{self.path}: {self.problems[0]}"
        more = len(self.problems) - 1
        if more == 0:
            return first
        return f"{first} (and {more} more: run 'accessbot profiles check {self.path}')"


# Pydantic's names for the members of `value: bool | int | str`, which it adds to the location.
_UNION_TAGS = frozenset({"bool", "int", "str"})
_SHOWN_MAX = 60


def _show(value: Any) -> str:
    """A value as the file's author would recognise it (YAML/JSON spellings), kept short."""
    if isinstance(value, str):
        shown = repr(value)
    elif isinstance(value, bool | int | float) or value is None:
        shown = json.dumps(value)
    else:
        shown = json.dumps(value, default=str, ensure_ascii=False)
    return shown if len(shown) <= _SHOWN_MAX else shown[: _SHOWN_MAX - 1] + "…"


def _profile_name(raw: Any, index: int) -> str:
    profiles = raw.get("profiles") if isinstance(raw, dict) else None
    if isinstance(profiles, list) and index < len(profiles):
        entry = profiles[index]
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            return repr(entry["id"])
    return f"#{index + 1}"


def _path_text(parts: list[int | str]) -> str:
    """`approvers.emails #2`: fields joined by dots, list positions 1-based."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f" #{part + 1}"
        else:
            text += ("." if text else "") + part
    return text


def _locate(raw: Any, loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into `profile 'x': field` wording."""
    parts = [p for p in loc if not (isinstance(p, str) and p.startswith("function-"))]
    if parts and parts[-1] in _UNION_TAGS:
        parts.pop()
    if len(parts) >= 2 and parts[0] == "profiles" and isinstance(parts[1], int):
        field = _path_text(parts[2:])
        return f"profile {_profile_name(raw, parts[1])}" + (f": {field}" if field else "")
    return _path_text(parts) or "the file"


_WORDING: dict[str, str] = {
    "missing": "required but missing",
    "extra_forbidden": "unknown field",
    "too_short": "has {actual_length} entries, needs at least {min_length}",
    "too_long": "has {actual_length} entries, the most is {max_length}",
    "string_too_short": "must not be empty",
    "string_too_long": "{shown} is longer than {max_length} characters",
    "enum": "{shown} is not {expected}",
    "greater_than": "{shown} must be more than {gt}",
    "greater_than_equal": "{shown} must be at least {ge}",
    "less_than_equal": "{shown} must be at most {le}",
    "bool_type": "{shown} is not true or false",
    "bool_parsing": "{shown} is not true or false",
    "int_type": "{shown} is not a whole number",
    "int_parsing": "{shown} is not a whole number",
    "int_from_float": "{shown} is not a whole number",
    "string_type": "{shown} is not text",
    "list_type": "{shown} is not a list",
    "model_type": "{shown} is not a mapping of fields",
    "dict_type": "{shown} is not a mapping of fields",
}


def _say(err: Any) -> str:
    """A pydantic error in our own words, with the bad value."""
    kind, ctx = err["type"], err.get("ctx") or {}
    shown = _show(err.get("input"))
    loc = err["loc"]
    if loc and loc[-1] in _UNION_TAGS:
        return f"{shown} is not true, false, a whole number or text"
    if kind in _WORDING:
        return _WORDING[kind].format(shown=shown, **ctx)
    message = str(err["msg"]).removeprefix("Value error, ")
    if "reason" in ctx and message.startswith("value is not a valid email address"):
        return f"{shown} is not a valid email address: {ctx['reason']}"
    if isinstance(err.get("input"), str | int | float) and shown not in message:
        return f"{message} (got {shown})"
    return message


def _field_problems(raw: Any, exc: ValidationError) -> list[str]:
    problems: list[str] = []
    for err in exc.errors(include_url=False):
        where = _locate(raw, tuple(err["loc"]))
        for line in _say(err).splitlines():
            # Model-level rules already name their profile and field.
            text = line if line.startswith("profile ") else f"{where}: {line}"
            if text not in problems:  # a union's members each report the same value
                problems.append(text)
    return problems


def _lenient_duration(value: Any, fallback: timedelta | None) -> timedelta | None:
    if value is None:
        return fallback
    try:
        parsed = _duration(value)
    except ValueError:
        return None
    return parsed if parsed > timedelta(0) else None


def _presence(value: Any) -> bool | None:
    """A mapping field as the cross-field rules see it: absent, present, or unreadable."""
    if value is None:
        return False
    return True if isinstance(value, dict) else None


def _raw_facts(raw: dict[str, Any]) -> tuple[list[_Facts], list[str]]:
    """Facts and per-profile approver problems read from the file as written, for the
    cross-field rules to run even where some fields are invalid."""
    defaults = raw.get("defaults")
    defaults = defaults if isinstance(defaults, dict) else {}
    default_max = _lenient_duration(defaults.get("max_duration"), Defaults().max_duration)
    default_ttl = _lenient_duration(defaults.get("request_ttl"), Defaults().request_ttl)
    entries = raw.get("profiles")
    entries = entries if isinstance(entries, list) else []
    facts: list[_Facts] = []
    problems: list[str] = []
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            continue
        name = _profile_name(raw, index)
        max_d = _lenient_duration(entry.get("max_duration"), default_max)
        total = _lenient_duration(entry.get("max_total_duration"), max_d and 2 * max_d)
        auto = entry.get("auto_approve")
        auto_max = auto.get("max_duration") if isinstance(auto, dict) else None
        approvers = entry.get("approvers", {})
        emails = approvers.get("emails", []) if isinstance(approvers, dict) else None
        groups = approvers.get("slack_groups", []) if isinstance(approvers, dict) else None
        required = entry.get("approvals_required", 1)
        break_glass = entry.get("break_glass", False)
        problems.extend(
            f"profile {name}: {line}"
            for line in approver_problems(
                approvers=len(emails) if isinstance(emails, list) else None,
                approvals_required=required if type(required) is int else None,
                break_glass=break_glass if isinstance(break_glass, bool) else None,
                auto_approve=auto is not None,
                auto_guarded=isinstance(auto, dict)
                and (auto.get("hours") is not None or auto.get("max_per_day") is not None),
                groups=len(groups) if isinstance(groups, list) else 0,
            )
        )
        escalate_to = entry.get("escalate_to")
        fallback = escalate_to if isinstance(escalate_to, dict) else {}
        problems.extend(
            f"profile {name}: {line}"
            for line in escalation_problems(
                remind_after="remind_after" in entry,
                max_reminders="max_reminders" in entry,
                escalate_after="escalate_after" in entry,
                escalate_to=_presence(escalate_to),
                escalate_to_anyone=bool(fallback.get("emails") or fallback.get("slack_groups")),
            )
        )
        facts.append(
            _Facts(
                name=name,
                id=entry.get("id") if isinstance(entry.get("id"), str) else None,
                attribute=entry["attribute"] if isinstance(entry.get("attribute"), str) else None,
                max_duration=max_d,
                max_total_duration=total,
                auto_max_duration=_lenient_duration(auto_max, None),
                request_ttl=_lenient_duration(entry.get("request_ttl"), default_ttl),
                remind_after=_lenient_duration(entry.get("remind_after"), None),
                escalate_after=_lenient_duration(entry.get("escalate_after"), None),
            )
        )
    return facts, problems


def parse_profiles(raw: Any, path: Path) -> ProfilesConfig:
    """Validate already-parsed YAML, or raise ProfilesError naming every problem: field
    problems and cross-field ones together, so one run of `profiles check` shows them all."""
    if not isinstance(raw, dict):
        raise ProfilesError(path, ["the file must be a mapping with a 'profiles' list"])
    try:
        return ProfilesConfig.model_validate(raw)
    except ValidationError as exc:
        problems = _field_problems(raw, exc)
    facts, approver_lines = _raw_facts(raw)
    for line in [*approver_lines, *cross_profile_problems(facts)]:
        if line not in problems:
            problems.append(line)
    raise ProfilesError(path, problems)


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """`line 3, column 7: not valid YAML: ...` (the file name is added by ProfilesError)."""
    if isinstance(exc, yaml.MarkedYAMLError) and exc.problem_mark is not None:
        mark = exc.problem_mark
        what = "; ".join(p for p in (exc.context, exc.problem) if p)
        return f"line {mark.line + 1}, column {mark.column + 1}: not valid YAML: {what}"
    return f"not valid YAML: {' '.join(str(exc).split())}"


def load_profiles(path: Path) -> ProfilesConfig:
    """Read and validate profiles.yaml."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ProfilesError(path, [f"cannot read: {exc.strerror}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        bad = data[exc.start : exc.start + 1].hex()
        raise ProfilesError(path, [f"line {line}: not UTF-8 text (byte 0x{bad})"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfilesError(path, [_yaml_problem(exc)]) from None
    return parse_profiles(raw, path)
