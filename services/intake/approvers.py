"""Who a requester may pick as approver, and how the form offers the choice (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from shared.profiles import Profile, SelfApproval

MAX_RADIO_OPTIONS = 10  # Block Kit's limit for radio_buttons, "Any" included


def offers_approver_choice(profile: Profile) -> bool:
    """A single approval routes to the chosen one (or to all); a quorum asks everyone,
    and break glass needs nobody first."""
    return profile.approvals_required == 1 and not profile.break_glass


def may_self_approve(profile: Profile) -> bool:
    """Whether the requester may be their own approver."""
    return profile.self_approval is not SelfApproval.NEVER


def eligible_approvers(profile: Profile, requester_email: str) -> list[str]:
    """The profile's approver emails the requester may pick, in profiles.yaml order."""
    me = requester_email.strip().lower()
    return [e for e in profile.approvers.emails if may_self_approve(profile) or e != me]


def fits_radio_buttons(eligible_count: int) -> bool:
    """Radio buttons hold the eligible approvers plus "Any"; beyond that, a user picker."""
    return eligible_count + 1 <= MAX_RADIO_OPTIONS


@dataclass(frozen=True, slots=True)
class ApproverCandidate:
    """An eligible approver as shown: the email is the value, the name the label."""

    email: str
    name: str | None = None
    slack_user_id: str | None = None
