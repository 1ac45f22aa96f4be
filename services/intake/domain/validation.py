"""Validating a request form against profiles.yaml and the device index (pure).

Errors are keyed by the modal's block_id, which is what Slack's
`response_action: errors` wants. Approvals validates again; this is for the
person filling in the form, so every message says what to do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Protocol

from services.intake.domain.approvers import (
    approver_for_value,
    is_approver_value,
    offers_approver_choice,
)
from services.intake.domain.device_index import is_own_device
from services.intake.domain.durations_text import human_duration
from shared.contracts.emails import normalise_email
from shared.contracts.events import DeviceSnapshot
from shared.device_claims import ClaimState, DeviceClaim
from shared.profiles import DeviceScope, Profile, ProfilesConfig
from shared.slack_ids import ANY_APPROVER, BlockId
from shared.slack_limits import MAX_REASON

FieldErrors = dict[str, str]
"""block_id -> message, as Slack's view errors want them."""


class DeviceLookup(Protocol):
    """Where known devices are looked up (the device index)."""

    def get(self, node_id: str) -> DeviceSnapshot | None:
        """The device, if known."""


@dataclass(frozen=True, slots=True)
class Submission:
    """The request form's values, the approver already resolved to an email."""

    profile_id: str | None
    device_id: str | None
    duration: str | None  # whole seconds, as the duration option's value
    # a radio option's value (see approvers.approver_value), an email (user picker),
    # ANY_APPROVER, or None when none was offered/picked
    approver: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class ValidRequest:
    """A submission that passed every check."""

    profile: Profile
    device: DeviceSnapshot
    duration_seconds: int
    approver_email: str | None
    reason: str


def duration_error(raw: str | None, profile: Profile, maximum: timedelta) -> str | None:
    if raw is None:
        return "Choose how long you need access."
    try:
        seconds = int(raw)
    except ValueError:
        return "Choose one of the durations offered."
    if seconds <= 0:
        return "Choose one of the durations offered."
    if seconds > maximum.total_seconds():
        return (
            f"{human_duration(timedelta(seconds=seconds))} is longer than "
            f"{profile.description} allows ({human_duration(maximum)})."
        )
    return None


def device_error(
    device_id: str | None, device: DeviceSnapshot | None, profile: Profile, requester_email: str
) -> str | None:
    if device_id is None:
        return "Choose a device."
    if device is None:
        return "That device is not known (any more); choose another one."
    if profile.devices is DeviceScope.OWN and not is_own_device(device, requester_email):
        return f"{profile.description} can only be granted on your own (untagged) devices."
    return None


STALE_APPROVER = "That approver is not offered any more; choose again."


def _chosen_approver(value: str | None, profiles: ProfilesConfig) -> str | None:
    """An email, ANY_APPROVER or None; a radio value no approver of any profile has gives ''.

    Any profile's approvers, not only the chosen one's: a choice kept from another
    profile's form is then named in the error.
    """
    if value is None or not is_approver_value(value):
        return value
    emails = (e for p in profiles.profiles for e in p.approvers.emails)
    return approver_for_value(value, emails) or ""


def _approver_error(approver: str | None, profile: Profile, requester_email: str) -> str | None:
    if approver is None or approver == ANY_APPROVER:
        return None
    if not approver:
        return STALE_APPROVER
    email = normalise_email(approver)
    if not profile.is_approver(email):
        return f"{approver} is not an approver for {profile.description}."
    if not profile.may_decide(email, requester=requester_email):
        return f"You cannot approve your own request for {profile.description}."
    return None


def _too_long(reason: str) -> str | None:
    if len(reason) > MAX_REASON:
        return f"Keep the reason under {MAX_REASON} characters (it has {len(reason)})."
    return None


def _reason_error(reason: str, profile: Profile) -> str | None:
    if too_long := _too_long(reason):
        return too_long
    if profile.require_reason and not reason.strip():
        return f"Say why you need {profile.description}."
    return None


def validate_request(
    submission: Submission,
    *,
    requester_email: str,
    profiles: ProfilesConfig,
    devices: DeviceLookup,
) -> ValidRequest | FieldErrors:
    """A ValidRequest, or every problem found keyed by block_id."""
    profile = profiles.get(submission.profile_id) if submission.profile_id else None
    if profile is None:
        if submission.profile_id is None:
            return {BlockId.PROFILE.value: "Choose what you need access to."}
        return {BlockId.PROFILE.value: "That access profile does not exist (any more)."}
    device = devices.get(submission.device_id) if submission.device_id else None
    approver = (
        _chosen_approver(submission.approver, profiles) if offers_approver_choice(profile) else None
    )
    maximum = profiles.max_duration(profile)
    problems = {
        BlockId.DEVICE.value: device_error(submission.device_id, device, profile, requester_email),
        BlockId.DURATION.value: duration_error(submission.duration, profile, maximum),
        BlockId.APPROVER.value: _approver_error(approver, profile, requester_email),
        BlockId.REASON.value: _reason_error(submission.reason, profile),
    }
    errors = {block: message for block, message in problems.items() if message is not None}
    if errors or device is None or submission.duration is None:
        return errors
    chosen = None if approver in (None, ANY_APPROVER) else approver
    return ValidRequest(
        profile=profile,
        device=device,
        duration_seconds=int(submission.duration),
        approver_email=normalise_email(chosen) if chosen else None,
        reason=submission.reason.strip(),
    )


def pair_held_error(claim: DeviceClaim, profile: Profile, requester_email: str) -> str:
    """Why this form cannot be a second request: another live request holds this profile on
    this device (one device, one profile, one grant). An active grant of the requester's
    own is offered for extension instead (see RequestFlow), never worded here."""
    what = profile.description
    rid = claim.request_id
    if claim.state is ClaimState.PENDING:
        who = "You" if claim.requester == normalise_email(requester_email) else "Someone"
        return (
            f"{who} already asked for {what} on this device: request {rid} is waiting for "
            "approval. One device, one profile, one grant: wait for it, or cancel it first."
        )
    if claim.state is ClaimState.APPROVED:
        return (
            f"{what} on this device is approved and being applied (request {rid}). One "
            "device, one profile, one grant: once it is active, ask for more time with Extend."
        )
    until = f" until {claim.until:%Y-%m-%d %H:%M} UTC" if claim.until is not None else ""
    return (
        f"{what} is already active on this device{until} under someone else's request "
        f"({rid}). One device, one profile, one grant."
    )


def validate_extension(
    duration: str | None, reason: str, *, maximum: timedelta, require_reason: bool
) -> tuple[int, str] | FieldErrors:
    """(additional seconds, reason), or errors keyed by the Extend modal's blocks."""
    errors: FieldErrors = {}
    seconds = 0
    if duration is None:
        errors[BlockId.EXTEND_DURATION.value] = "Choose how much more time you need."
    else:
        try:
            seconds = int(duration)
        except ValueError:
            seconds = 0
        if seconds <= 0:
            errors[BlockId.EXTEND_DURATION.value] = "Choose one of the durations offered."
        elif seconds > maximum.total_seconds():
            errors[BlockId.EXTEND_DURATION.value] = (
                f"{human_duration(timedelta(seconds=seconds))} is more than an extension "
                f"may add ({human_duration(maximum)})."
            )
    if too_long := _too_long(reason):
        errors[BlockId.EXTEND_REASON.value] = too_long
    elif require_reason and not reason.strip():
        errors[BlockId.EXTEND_REASON.value] = "Say why you need more time."
    return errors or (seconds, reason.strip())
