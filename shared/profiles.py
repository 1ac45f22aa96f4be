"""Access profiles (profiles.yaml): schema, loading, and problems named precisely.

An invalid file stops startup: every problem names the file, the profile and the field.
"""

from __future__ import annotations

import re
from datetime import timedelta
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Self

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    EmailStr,
    Field,
    PositiveInt,
    ValidationError,
    field_validator,
    model_validator,
)

from shared.durations import format_duration, parse_duration

ATTRIBUTE_KEY_MAX = 50
ATTRIBUTE_STRING_MAX = 50
ATTRIBUTE_INT_MAX = 2**53 - 1
_KEY_RE = re.compile(r"^custom:[A-Za-z0-9_:]+$")
_STRING_VALUE_RE = re.compile(r"^[A-Za-z0-9_.]+$")
_SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_CHANNEL_RE = re.compile(r"^[CG][A-Z0-9]{6,}$")


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

    emails: list[EmailStr] = Field(default_factory=list, description="Eligible approvers.")

    @model_validator(mode="after")
    def _lowercase_unique(self) -> Self:
        lowered = [e.lower() for e in self.emails]
        if len(set(lowered)) != len(lowered):
            raise ValueError("approver emails repeat")
        object.__setattr__(self, "emails", lowered)
        return self


class AutoApprove(_Strict):
    """Requests that need no human approval."""

    max_duration: Duration
    requesters: list[EmailStr] = Field(min_length=1)


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

    @field_validator("max_duration", "max_total_duration", "request_ttl")
    @classmethod
    def _positive(cls, value: timedelta | None) -> timedelta | None:
        if value is not None and value <= timedelta(0):
            raise ValueError("must be longer than zero")
        return value

    @model_validator(mode="after")
    def _approvers_can_decide(self) -> Self:
        # Model-level messages start with the field they concern (see _locate).
        if not self.approvers.emails and not self.break_glass and self.auto_approve is None:
            raise ValueError("approvers.emails: empty, so nobody could approve this profile")
        if self.approvers.emails and self.approvals_required > len(self.approvers.emails):
            raise ValueError(
                f"approvals_required: {self.approvals_required} exceeds the "
                f"{len(self.approvers.emails)} approvers listed"
            )
        return self


class ProfilesConfig(_Strict):
    """The whole profiles.yaml."""

    admins: list[EmailStr] = Field(default_factory=list)
    defaults: Defaults = Field(default_factory=Defaults)
    profiles: list[Profile] = Field(min_length=1)

    @model_validator(mode="after")
    def _cross_checks(self) -> Self:
        seen_ids: set[str] = set()
        seen_attrs: dict[str, str] = {}
        problems: list[str] = []
        for p in self.profiles:
            if p.id in seen_ids:
                problems.append(f"profile {p.id!r}: id: duplicate id")
            seen_ids.add(p.id)
            key = p.attribute.lower()
            if key in seen_attrs:
                problems.append(
                    f"profile {p.id!r}: attribute: {p.attribute!r} is already used by "
                    f"profile {seen_attrs[key]!r} (keys are unique case-insensitively)"
                )
            seen_attrs.setdefault(key, p.id)
            max_d = self.max_duration(p)
            if p.auto_approve is not None and p.auto_approve.max_duration > max_d:
                problems.append(
                    f"profile {p.id!r}: auto_approve.max_duration: "
                    f"{format_duration(p.auto_approve.max_duration)} exceeds max_duration "
                    f"{format_duration(max_d)}"
                )
            if self.max_total_duration(p) < max_d:
                problems.append(f"profile {p.id!r}: max_total_duration: shorter than max_duration")
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
        return email.lower() in {a.lower() for a in self.admins}


class ProfilesError(Exception):
    """profiles.yaml is unreadable or invalid; `problems` names each one."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__("\n".join(f"{path}: {p}" for p in problems))


def _locate(raw: Any, loc: tuple[int | str, ...]) -> str:
    """Turn a pydantic error location into `profile 'x': field: ...` wording."""
    parts = list(loc)
    if len(parts) >= 2 and parts[0] == "profiles" and isinstance(parts[1], int):
        index = parts[1]
        name = f"#{index + 1}"
        profiles = raw.get("profiles") if isinstance(raw, dict) else None
        if isinstance(profiles, list) and index < len(profiles):
            entry = profiles[index]
            if isinstance(entry, dict) and isinstance(entry.get("id"), str):
                name = repr(entry["id"])
        field = ".".join(str(p) for p in parts[2:] if not str(p).startswith("function-"))
        return f"profile {name}" + (f": {field}" if field else "")
    return ".".join(str(p) for p in parts) or "<file>"


def parse_profiles(raw: Any, path: Path) -> ProfilesConfig:
    """Validate already-parsed YAML, or raise ProfilesError naming every problem."""
    if not isinstance(raw, dict):
        raise ProfilesError(path, ["the file must be a mapping with a 'profiles' list"])
    try:
        return ProfilesConfig.model_validate(raw)
    except ValidationError as exc:
        problems: list[str] = []
        for err in exc.errors(include_url=False):
            where = _locate(raw, tuple(err["loc"]))
            msg = str(err["msg"]).removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                msg = "unknown field"
            # Cross-profile checks already name their profile and field.
            problems.extend(
                line if line.startswith("profile ") else f"{where}: {line}"
                for line in msg.splitlines()
            )
        raise ProfilesError(path, problems) from None


def load_profiles(path: Path) -> ProfilesConfig:
    """Read and validate profiles.yaml."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProfilesError(path, [f"cannot read: {exc.strerror}"]) from None
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProfilesError(path, [f"not valid YAML: {exc}"]) from None
    return parse_profiles(raw, path)
