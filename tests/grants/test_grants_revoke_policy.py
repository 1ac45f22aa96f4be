"""Who may revoke: the requester, an approver of the profile, or an admin."""

from __future__ import annotations

from services.grants.domain.revoke_policy import refusal_facts
from shared.contracts.events import RefusalWording
from shared.profiles import load_profiles
from shared.wording import refusal_text
from tests.conftest import PROFILES_PATH

PROFILES = load_profiles(PROFILES_PATH)


def allowed(actor: str, profile: str = "prod") -> bool:
    return PROFILES.may_revoke(actor, requester="carol@example.com", profile_id=profile)


def test_requester_approver_and_admin_may_revoke_case_insensitively():
    assert allowed("Carol@Example.com")
    assert allowed("bob@example.com")
    assert allowed("SECOPS@example.com")


def test_others_may_not():
    assert not allowed("mallory@example.com")
    assert not allowed("dave@example.com")  # an approver of staging, not of prod
    assert allowed("dave@example.com", profile="staging")
    assert not allowed("bob@example.com", profile="no-such-profile")


def test_refusal_names_the_profile():
    assert "Production" in refusal_text(refusal_facts("prod", PROFILES), "revoke")


def test_refusal_facts_name_the_profile_for_the_notifier():
    facts = refusal_facts("prod", PROFILES)
    assert facts.wording is RefusalWording.MAY_NOT_REVOKE
    assert facts.subject == "Production"
