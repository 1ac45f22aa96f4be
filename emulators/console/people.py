"""Who can be picked in the console: every sandbox person with a role from profiles.yaml."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from shared.contracts.emails import normalise_email
from shared.profiles import ProfilesConfig


@dataclass(frozen=True)
class Person:
    """One sandbox person as the console offers them."""

    user_id: str
    name: str
    email: str
    role: str  # "admin", "approver" or "requester"


def role_of(email: str, profiles: ProfilesConfig) -> str:
    """admin beats approver beats requester (the strongest thing a person may do).

    profiles.yaml's addresses are normalised when loaded (`Email`); Slack's is raw text."""
    email = normalise_email(email)
    if email in profiles.admins:
        return "admin"
    if any(email in p.approvers.emails for p in profiles.profiles):
        return "approver"
    return "requester"


def people(users: Iterable[Mapping[str, Any]], profiles: ProfilesConfig) -> list[Person]:
    """Workspace users (the emulator's `users.info` shape) that have an email, in order."""
    found = []
    for user in users:
        profile = user.get("profile") or {}
        email = str(profile.get("email") or user.get("email") or "")
        if not email or user.get("deleted") or user.get("is_bot"):
            continue
        name = str(profile.get("real_name") or user.get("real_name") or user.get("name") or email)
        found.append(Person(str(user["id"]), name, email, role_of(email, profiles)))
    return found
