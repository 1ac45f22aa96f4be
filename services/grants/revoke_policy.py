"""Why someone may not revoke, as facts (the right itself: `ProfilesConfig.may_revoke`)."""

from __future__ import annotations

from shared.contracts.events import RefusalFacts, RefusalWording
from shared.profiles import ProfilesConfig
from shared.wording import refusal_text


def refusal_facts(profile_id: str, profiles: ProfilesConfig) -> RefusalFacts:
    """What the notifier words for a clicker who may not revoke."""
    profile = profiles.get(profile_id)
    name = profile.description if profile is not None else profile_id
    return RefusalFacts(wording=RefusalWording.MAY_NOT_REVOKE, subject=name)


def refusal_message(profile_id: str, profiles: ProfilesConfig) -> str:
    """The same in English, for the event's `message` (SIEM readers)."""
    return refusal_text(refusal_facts(profile_id, profiles), "revoke")
