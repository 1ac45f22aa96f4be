"""Re-validation of a submitted request: approvals never trusts the form."""

from __future__ import annotations

from datetime import timedelta

from services.approvals.rules import instant_mode
from shared.durations import format_duration
from shared.emails import normalise_email
from shared.events import DeviceSnapshot, Problem, SubmitRequest
from shared.profiles import DeviceScope, Profile, ProfilesConfig, SelfApproval
from shared.slack_limits import MAX_REASON


def submission_problems(
    sub: SubmitRequest, config: ProfilesConfig, device: DeviceSnapshot | None
) -> list[Problem]:
    """Every problem with the submission; empty when it may proceed."""
    problems: list[Problem] = []
    profile = config.get(sub.profile_id)
    if device is None:
        problems.append(
            Problem(
                field="device",
                message=f"Device {sub.device_id} is unknown (not in the Tailscale inventory).",
            )
        )
    if profile is None:
        problems.append(
            Problem(field="profile", message=f"There is no access profile {sub.profile_id!r}.")
        )
        return problems
    problems += _duration_problems(sub, profile, config)
    problems += _reason_problems(sub, profile)
    if device is not None:
        problems += _device_problems(sub, profile, device)
    problems += _approver_problems(sub, profile)
    return problems


def _duration_problems(
    sub: SubmitRequest, profile: Profile, config: ProfilesConfig
) -> list[Problem]:
    maximum = config.max_duration(profile)
    if timedelta(seconds=sub.duration_seconds) <= maximum:
        return []
    asked = format_duration(timedelta(seconds=sub.duration_seconds))
    return [
        Problem(
            field="duration",
            message=f"{asked} is longer than {profile.description} allows "
            f"({format_duration(maximum)}).",
        )
    ]


def _reason_problems(sub: SubmitRequest, profile: Profile) -> list[Problem]:
    if profile.require_reason and not sub.reason.strip():
        return [Problem(field="reason", message=f"{profile.description} requires a reason.")]
    if len(sub.reason) > MAX_REASON:
        return [Problem(field="reason", message=f"The reason is over {MAX_REASON} characters.")]
    return []


def _device_problems(sub: SubmitRequest, profile: Profile, device: DeviceSnapshot) -> list[Problem]:
    if profile.devices is not DeviceScope.OWN:
        return []
    if device.tags:
        return [
            Problem(
                field="device",
                message=f"{device.name} is a tagged device; {profile.description} is only "
                "for your own untagged devices.",
            )
        ]
    if device.owner is None or normalise_email(device.owner) != sub.requester.email:
        return [
            Problem(
                field="device",
                message=f"{device.name} is not yours; {profile.description} is only for "
                "your own devices.",
            )
        ]
    return []


def _approver_problems(sub: SubmitRequest, profile: Profile) -> list[Problem]:
    if profile.break_glass:
        return []  # nobody is asked: the requester approves at once
    requester = sub.requester.email
    chosen = sub.approver_email
    eligible = profile.eligible_approvers(requester)
    if chosen is not None:
        own = chosen == requester
        if own and profile.self_approval is SelfApproval.NEVER:
            message = f"You cannot approve your own request for {profile.description}."
            return [Problem(field="approver", message=message)]
        if chosen not in eligible:
            message = f"{chosen} is not an approver for {profile.description}."
            return [Problem(field="approver", message=message)]
    duration = timedelta(seconds=sub.duration_seconds)
    if instant_mode(profile, requester, chosen, duration) is None and (
        len(eligible) < profile.approvals_required
    ):
        return [
            Problem(
                field="approver",
                message=f"{profile.description} needs {profile.approvals_required} "
                f"approval(s) but only {len(eligible)} person(s) may approve your request.",
            )
        ]
    return []
