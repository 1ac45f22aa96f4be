"""Who may revoke a grant: its requester, an approver of its profile, or an admin (pure)."""

from __future__ import annotations

from shared.emails import normalise_email
from shared.profiles import ProfilesConfig


def may_revoke(
    actor_email: str, *, requester_email: str, profile_id: str, profiles: ProfilesConfig
) -> bool:
    """Emails compare case-insensitively, as everywhere in profiles.yaml."""
    actor = normalise_email(actor_email)
    if actor == normalise_email(requester_email) or profiles.is_admin(actor):
        return True
    profile = profiles.get(profile_id)
    return profile is not None and actor in profile.approvers.emails


def refusal_message(profile_id: str, profiles: ProfilesConfig) -> str:
    """What the clicker is told when they may not revoke."""
    profile = profiles.get(profile_id)
    name = profile.description if profile is not None else profile_id
    return f"Only the requester, an approver of {name} or an admin may revoke this access."
