"""`approvers.slack_groups` in profiles.yaml: shapes checked, one line per mistake, and
the rights group members get from the members resolved when a request was opened."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from shared.profiles import ProfilesConfig, ProfilesError, parse_profiles

PATH = Path("profiles.yaml")


def raw(approvers: dict[str, Any], **extra: Any) -> dict[str, Any]:
    profile = {
        "id": "prod",
        "description": "Production",
        "attribute": "custom:prodAccess",
        "approvers": approvers,
        **extra,
    }
    return {"profiles": [profile]}


def problems(data: dict[str, Any]) -> list[str]:
    with pytest.raises(ProfilesError) as caught:
        parse_profiles(data, PATH)
    return caught.value.problems


def test_groups_alone_are_enough_approvers() -> None:
    config = parse_profiles(raw({"slack_groups": ["S0614TZR7"]}), PATH)
    assert config.profiles[0].approvers.slack_groups == ["S0614TZR7"]
    assert config.profiles[0].approvers.emails == []


@pytest.mark.parametrize(
    ("approvers", "expected"),
    [
        (
            {"slack_groups": ["oncall"]},
            "profile 'prod': approvers.slack_groups: 'oncall' is not a Slack user group id "
            "(S… in capitals)",
        ),
        (
            {"slack_groups": ["s0614tzr7"]},
            "profile 'prod': approvers.slack_groups: 's0614tzr7' is not a Slack user group id "
            "(S… in capitals)",
        ),
        (
            {"slack_groups": ["S0614TZR7", "S0614TZR7"]},
            "profile 'prod': approvers.slack_groups: slack_groups repeat",
        ),
        (
            {"emails": [], "slack_groups": []},
            "profile 'prod': approvers: no emails and no slack_groups, so nobody could approve "
            "this profile",
        ),
        (
            {"slack_groups": [f"S0GROUP{i:02d}" for i in range(11)]},
            "profile 'prod': approvers.slack_groups: has 11 entries, the most is 10",
        ),
    ],
)
def test_mistakes_are_one_line_each(approvers: dict[str, Any], expected: str) -> None:
    found = problems(raw(approvers))
    assert found == [expected]


def test_a_quorum_is_not_judged_against_listed_emails_when_groups_approve_too() -> None:
    data = raw(
        {"emails": ["alice@example.com"], "slack_groups": ["S0614TZR7"]}, approvals_required=2
    )
    assert parse_profiles(data, PATH).profiles[0].approvals_required == 2


def config() -> ProfilesConfig:
    return parse_profiles(
        raw({"emails": ["alice@example.com"], "slack_groups": ["S0ONCALL1"]}), PATH
    )


def test_a_member_of_a_listed_group_decides_only_through_the_resolved_members() -> None:
    prod = config().profiles[0]
    groups = {"S0ONCALL1": ["carol@example.com"], "S0ELSEWHERE": ["erin@example.com"]}
    assert prod.may_decide("Carol@Example.com", requester="dave@example.com", groups=groups)
    assert not prod.may_decide("carol@example.com", requester="dave@example.com")
    assert not prod.may_decide("erin@example.com", requester="dave@example.com", groups=groups)
    assert prod.eligible_approvers("dave@example.com", groups) == [
        "alice@example.com",
        "carol@example.com",
    ]


def test_the_requester_in_a_group_is_left_out_without_self_approval() -> None:
    prod = config().profiles[0]
    groups = {"S0ONCALL1": ["dave@example.com", "alice@example.com"]}
    assert prod.eligible_approvers("dave@example.com", groups) == ["alice@example.com"]


def test_revoke_rights_stay_with_listed_people() -> None:
    # Grants cannot resolve groups (it holds no Slack token): group members revoke only
    # their own grants.
    assert not config().may_revoke(
        "carol@example.com", requester="dave@example.com", profile_id="prod"
    )
