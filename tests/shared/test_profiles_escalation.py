"""`remind_after`, `max_reminders`, `escalate_after` and `escalate_to` in profiles.yaml:
shapes checked one line per mistake, and the one rule for fallback approvers' rights."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from accessbot.profiles_online import group_problems
from shared.profiles import (
    DEFAULT_MAX_REMINDERS,
    MAX_REMINDERS_LIMIT,
    Profile,
    ProfilesError,
    parse_profiles,
)

PATH = Path("profiles.yaml")


def raw(**extra: Any) -> dict[str, Any]:
    profile = {
        "id": "prod",
        "description": "Production",
        "attribute": "custom:prodAccess",
        "approvers": {"emails": ["alice@example.com"]},
        "request_ttl": "1h",
        **extra,
    }
    return {"profiles": [profile]}


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ProfilesError) as caught:
        parse_profiles(data, PATH)
    return caught.value.problems


def profile(**extra: Any) -> Profile:
    return parse_profiles(raw(**extra), PATH).profiles[0]


def test_reminders_default_to_two_and_are_off_without_remind_after() -> None:
    assert profile(remind_after="15m").reminders_allowed == DEFAULT_MAX_REMINDERS == 2
    assert profile(remind_after="15m", max_reminders=5).reminders_allowed == 5
    assert profile().reminders_allowed == 0


def test_seconds_are_accepted_as_for_every_duration() -> None:
    assert profile(remind_after="3s").remind_after == timedelta(seconds=3)


@pytest.mark.parametrize(
    ("extra", "expected"),
    [
        (
            {"remind_after": "1h"},
            "profile 'prod': remind_after: 1h is not shorter than request_ttl 1h, so it would "
            "never happen (the request expires first)",
        ),
        (
            {"escalate_after": "90m", "escalate_to": {"emails": ["carol@example.com"]}},
            "profile 'prod': escalate_after: 1h30m is not shorter than request_ttl 1h, so it "
            "would never happen (the request expires first)",
        ),
        (
            {"max_reminders": 3},
            "profile 'prod': max_reminders: set without remind_after, so no reminder is ever sent",
        ),
        (
            {"remind_after": "5m", "max_reminders": MAX_REMINDERS_LIMIT + 1},
            f"profile 'prod': max_reminders: {MAX_REMINDERS_LIMIT + 1} must be at most "
            f"{MAX_REMINDERS_LIMIT}",
        ),
        (
            {"escalate_after": "30m"},
            "profile 'prod': escalate_after: set without escalate_to, so nobody would be asked",
        ),
        (
            {"escalate_to": {"emails": ["carol@example.com"]}},
            "profile 'prod': escalate_to: set without escalate_after, so it would never happen",
        ),
        (
            {"escalate_after": "30m", "escalate_to": {"emails": [], "slack_groups": []}},
            "profile 'prod': escalate_to: no emails and no slack_groups, so nobody would be asked",
        ),
        (
            {"escalate_after": "30m", "escalate_to": {"slack_groups": ["oncall"]}},
            "profile 'prod': escalate_to.slack_groups: 'oncall' is not a Slack user group id "
            "(S… in capitals)",
        ),
        (
            {"remind_after": "0s"},
            "profile 'prod': remind_after: '0s' must be longer than zero",
        ),
    ],
)
def test_mistakes_are_one_line_each(extra: dict[str, Any], expected: str) -> None:
    assert problems(raw(**extra)) == [expected]


def test_the_ttl_rule_reads_the_default_ttl_too() -> None:
    data = raw(remind_after="2h")
    del data["profiles"][0]["request_ttl"]
    data["defaults"] = {"request_ttl": "2h"}
    assert problems(data) == [
        "profile 'prod': remind_after: 2h is not shorter than request_ttl 2h, so it would "
        "never happen (the request expires first)"
    ]


def test_approver_and_escalation_groups_together_stay_within_ten() -> None:
    approvers = {"slack_groups": [f"S0APPROVE{i}" for i in range(6)]}
    fallback = {"slack_groups": [f"S0FALLBAK{i}" for i in range(5)]}
    found = problems(raw(approvers=approvers, escalate_after="30m", escalate_to=fallback))
    assert found == [
        "profile 'prod': escalate_to.slack_groups: 11 groups with approvers.slack_groups, the "
        "most is 10 (each is resolved when a request is opened)"
    ]


def escalating() -> Profile:
    return profile(
        approvers={"emails": ["alice@example.com"], "slack_groups": ["S0APPROVE1"]},
        escalate_after="30m",
        escalate_to={
            "emails": ["carol@example.com", "alice@example.com", "dana@example.com"],
            "slack_groups": ["S0FALLBAK1"],
        },
    )


GROUPS = {"S0APPROVE1": ["bob@example.com"], "S0FALLBAK1": ["erin@example.com"]}


def test_resolved_groups_are_the_approvers_then_the_escalations() -> None:
    assert escalating().slack_groups() == ["S0APPROVE1", "S0FALLBAK1"]


def test_fallback_approvers_decide_only_once_escalated() -> None:
    p = escalating()
    for email in ("carol@example.com", "erin@example.com"):
        assert not p.may_decide(email, requester="dana@example.com", groups=GROUPS)
        assert p.may_decide(email, requester="dana@example.com", groups=GROUPS, escalated=True)
    # Escalation adds rights to nobody else, and never to the requester.
    assert not p.may_decide("zed@example.com", requester="dana@example.com", escalated=True)
    assert not p.may_decide(
        "dana@example.com", requester="dana@example.com", groups=GROUPS, escalated=True
    )


def test_fallback_approvers_leave_out_approvers_and_the_requester() -> None:
    added = escalating().fallback_approvers("dana@example.com", GROUPS)
    assert added == ["carol@example.com", "erin@example.com"]
    assert escalating().eligible_approvers("dana@example.com", GROUPS) == [
        "alice@example.com",
        "bob@example.com",
    ]


def test_a_profile_without_escalation_adds_nobody() -> None:
    assert profile().fallback_approvers("dana@example.com") == []
    assert not profile().is_fallback_approver("carol@example.com")


def test_the_online_check_names_escalation_groups_by_their_field() -> None:
    config = parse_profiles(
        raw(escalate_after="30m", escalate_to={"slack_groups": ["S0FALLBAK1"]}), PATH
    )
    assert group_problems(config, []) == [
        "profile 'prod': escalate_to.slack_groups: S0FALLBAK1 is not a user group of this "
        "Slack workspace"
    ]
