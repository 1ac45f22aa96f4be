"""Why someone may not revoke, as facts (the right itself: `ProfilesConfig.may_revoke`)."""

from __future__ import annotations

from shared.contracts.events import RefusalFacts, RefusalWording
from shared.profiles import ProfilesConfig


def refusal_facts(profile_id: str, profiles: ProfilesConfig) -> RefusalFacts:
    """What the notifier words for a clicker who may not revoke."""
    profile = profiles.get(profile_id)
    name = profile.description if profile is not None else profile_id
    return RefusalFacts(wording=RefusalWording.MAY_NOT_REVOKE, subject=name)
