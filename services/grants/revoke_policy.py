"""What someone who may not revoke is told (the right itself: `ProfilesConfig.may_revoke`)."""

from __future__ import annotations

from shared.profiles import ProfilesConfig


def refusal_message(profile_id: str, profiles: ProfilesConfig) -> str:
    """What the clicker is told when they may not revoke."""
    profile = profiles.get(profile_id)
    name = profile.description if profile is not None else profile_id
    return f"Only the requester, an approver of {name} or an admin may revoke this access."
