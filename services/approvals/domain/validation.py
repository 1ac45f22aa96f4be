"""Re-validation of a submitted request: approvals never trusts the form."""

from __future__ import annotations

from datetime import timedelta

from services.approvals.domain.rules import instant_mode
from shared.contracts.emails import normalise_email
from shared.contracts.events import DeviceSnapshot, Problem, RuleFacts, SubmitRequest
from shared.contracts.events import RuleWording as R
from shared.profiles import DeviceScope, GroupMembers, Profile, ProfilesConfig, SelfApproval
from shared.slack_limits import MAX_REASON
from shared.wording import rule_text


def submission_problems(
    sub: SubmitRequest, config: ProfilesConfig, device: DeviceSnapshot | None, *, auto: bool = True
) -> list[Problem]:
    """Every problem with the submission; empty when it may proceed.

    `auto=False`: `auto_approve` is held, so approvers must be there to ask."""
    problems: list[Problem] = []
    profile = config.get(sub.profile_id)
    if device is None:
        problems.append(_problem("device", R.UNKNOWN_DEVICE, value=sub.device_id))
    if profile is None:
        problems.append(_problem("profile", R.UNKNOWN_PROFILE, value=sub.profile_id))
        return problems
    problems += _duration_problems(sub, profile, config)
    problems += _reason_problems(sub, profile)
    if device is not None:
        problems += _device_problems(sub, profile, device)
    problems += _approver_problems(sub, profile, auto=auto)
    return problems


def submitted_groups(sub: SubmitRequest, profile: Profile) -> dict[str, list[str]]:
    """The submission's resolved members of the groups the profile lists (any other group
    intake sent is ignored: the profile, not the message, says which groups approve)."""
    listed = set(profile.slack_groups())
    return {
        g.group_id: [str(e) for e in g.members] for g in sub.approver_groups if g.group_id in listed
    }


def _problem(field: str, wording: R, **data: str | int) -> Problem:
    """A problem as facts for the notifier, with the English for SIEM readers."""
    facts = RuleFacts.model_validate({"wording": wording, **data})
    return Problem(field=field, message=rule_text(facts), facts=facts)


def _duration_problems(
    sub: SubmitRequest, profile: Profile, config: ProfilesConfig
) -> list[Problem]:
    maximum = config.max_duration(profile)
    if timedelta(seconds=sub.duration_seconds) <= maximum:
        return []
    return [
        _problem(
            "duration",
            R.TOO_LONG,
            subject=profile.description,
            seconds=sub.duration_seconds,
            limit_seconds=int(maximum.total_seconds()),
        )
    ]


def _reason_problems(sub: SubmitRequest, profile: Profile) -> list[Problem]:
    if profile.require_reason and not sub.reason.strip():
        return [_problem("reason", R.REASON_REQUIRED, subject=profile.description)]
    if len(sub.reason) > MAX_REASON:
        return [_problem("reason", R.REASON_TOO_LONG, limit_count=MAX_REASON)]
    return []


def _device_problems(sub: SubmitRequest, profile: Profile, device: DeviceSnapshot) -> list[Problem]:
    if profile.devices is not DeviceScope.OWN:
        return []
    if device.tags:
        return [_problem("device", R.TAGGED_DEVICE, value=device.name, subject=profile.description)]
    if device.owner is None or normalise_email(device.owner) != sub.requester.email:
        return [
            _problem("device", R.NOT_YOUR_DEVICE, value=device.name, subject=profile.description)
        ]
    return []


def _approver_problems(sub: SubmitRequest, profile: Profile, *, auto: bool) -> list[Problem]:
    if profile.break_glass:
        return []  # nobody is asked: the requester approves at once
    requester = sub.requester.email
    chosen = sub.approver_email
    groups: GroupMembers = submitted_groups(sub, profile)
    eligible = profile.eligible_approvers(requester, groups)
    if chosen is not None:
        own = chosen == requester
        if own and profile.self_approval is SelfApproval.NEVER:
            return [_problem("approver", R.OWN_APPROVAL, subject=profile.description)]
        if chosen not in eligible:
            return [
                _problem("approver", R.NOT_AN_APPROVER, value=chosen, subject=profile.description)
            ]
    duration = timedelta(seconds=sub.duration_seconds)
    if instant_mode(profile, requester, chosen, duration, auto=auto) is None and (
        len(eligible) < profile.approvals_required
    ):
        return [
            _problem(
                "approver",
                R.TOO_FEW_APPROVERS,
                subject=profile.description,
                count=len(eligible),
                limit_count=profile.approvals_required,
            )
        ]
    return []
