"""Who a requester may pick as approver, and how the form offers the choice (pure)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from shared.contracts.emails import normalise_email
from shared.profiles import Profile
from shared.slack_limits import RADIO_OPTIONS

MAX_RADIO_OPTIONS = RADIO_OPTIONS  # "Any" included
MAX_SHOWN_APPROVERS = 10
"""Where the form offers no choice, it names at most this many approvers ("and N more")."""
MAX_APPROVER_LOOKUPS = 100
"""Approvers looked up in Slack per form or per search answer (each cached); any beyond
are offered by email alone (a search answer holds at most 100 options anyway)."""
_VALUE_PREFIX = "approver:"


def offers_approver_choice(profile: Profile) -> bool:
    """A single approval routes to the chosen one (or to all); a quorum asks everyone,
    and break glass needs nobody first. With Slack user groups as approvers everyone
    eligible is asked (group members are known only once the request is opened)."""
    return (
        profile.approvals_required == 1
        and not profile.break_glass
        and not profile.approvers.slack_groups
    )


def fits_radio_buttons(eligible_count: int) -> bool:
    """Radio buttons hold the eligible approvers plus "Any"; beyond that, a user picker."""
    return eligible_count + 1 <= MAX_RADIO_OPTIONS


def approver_value(email: str) -> str:
    """The radio option's value for an approver: a digest of the email, not the email.

    An email may be longer than an option value may be (150); a digest also still
    finds its approver when profiles.yaml is reordered while a form is open.
    """
    digest = hashlib.sha256(normalise_email(email).encode()).hexdigest()[:24]
    return f"{_VALUE_PREFIX}{digest}"


def is_approver_value(value: str) -> bool:
    """Whether `value` came from `approver_value` (else it is an email or ANY_APPROVER)."""
    return value.startswith(_VALUE_PREFIX)


def approver_for_value(value: str, emails: Iterable[str]) -> str | None:
    """The email among `emails` whose option value is `value`; None when none is."""
    return next((e for e in emails if approver_value(e) == value), None)


@dataclass(frozen=True, slots=True)
class ApproverCandidate:
    """An eligible approver as shown: the email is the value, the name the label.

    `tz_offset` is Slack's `users.info` `tz_offset`: seconds east of UTC on the person's
    clock now (daylight saving already applied); None when unknown.
    """

    email: str
    name: str | None = None
    slack_user_id: str | None = None
    tz_offset: int | None = None


def local_time(tz_offset: int | None, now: datetime) -> str | None:
    """The person's wall clock at `now` from their offset, e.g. "Sat 14:05"; None if unknown.

    Rendered once, when the form is built: an open form does not tick.
    """
    if tz_offset is None:
        return None
    moment = now.astimezone(UTC) + timedelta(seconds=tz_offset)
    return moment.strftime("%a %H:%M")


def matching(candidates: Sequence[ApproverCandidate], query: str) -> list[ApproverCandidate]:
    """The candidates whose name or email contains every typed word (case ignored)."""
    words = query.lower().split()
    return [
        c
        for c in candidates
        if all(w in c.email.lower() or w in (c.name or "").lower() for w in words)
    ]
