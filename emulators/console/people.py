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


def role_of(email: str, profiles: ProfilesConfig, *, in_a_group: bool = False) -> str:
    """admin beats approver beats requester (the strongest thing a person may do). An
    approver is listed under a profile's `approvers` or `escalate_to`, or (`in_a_group`)
    is a member of a Slack user group one of them names.

    profiles.yaml's addresses are normalised when loaded (`Email`); Slack's is raw text."""
    email = normalise_email(email)
    if email in profiles.admins:
        return "admin"
    for profile in profiles.profiles:
        fallback = profile.escalate_to.emails if profile.escalate_to is not None else []
        if email in profile.approvers.emails or email in fallback:
            return "approver"
    return "approver" if in_a_group else "requester"


def group_members(usergroups: Iterable[Mapping[str, Any]], profiles: ProfilesConfig) -> set[str]:
    """User ids of the members of the user groups the profiles name (the emulator's
    `usergroups` shape: id, users)."""
    named = {g for p in profiles.profiles for g in p.slack_groups()}
    return {str(u) for g in usergroups if g.get("id") in named for u in g.get("users") or ()}


def people(
    users: Iterable[Mapping[str, Any]],
    profiles: ProfilesConfig,
    usergroups: Iterable[Mapping[str, Any]] = (),
) -> list[Person]:
    """Workspace users (the emulator's `users.info` shape) that have an email, in order."""
    in_groups = group_members(usergroups, profiles)
    found = []
    for user in users:
        profile = user.get("profile") or {}
        email = str(profile.get("email") or user.get("email") or "")
        if not email or user.get("deleted") or user.get("is_bot"):
            continue
        name = str(profile.get("real_name") or user.get("real_name") or user.get("name") or email)
        role = role_of(email, profiles, in_a_group=str(user["id"]) in in_groups)
        found.append(Person(str(user["id"]), name, email, role))
    return found
