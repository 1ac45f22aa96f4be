"""Approver groups resolved for a submission: members as emails, inactive people left out,
one Slack call per group per minute (a bounded cache), oversized groups refused."""

from __future__ import annotations

import pytest

from services.intake.handlers.approver_groups import ApproverGroups, GroupTooLargeError
from shared.contracts.events import MAX_GROUP_MEMBERS, ApproverGroup, Person


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Slack:
    """usergroups.users.list of a few groups, counting calls."""

    def __init__(self, groups: dict[str, list[str] | None]) -> None:
        self.groups = groups
        self.calls: list[str] = []

    async def usergroup_members(self, group_id: str) -> list[str] | None:
        self.calls.append(group_id)
        return self.groups.get(group_id)


class People:
    """users.info: U_GONE is deactivated, U_BOT a bot (both: no Person)."""

    async def person(self, user_id: str) -> Person | None:
        if user_id in ("U_GONE", "U_BOT"):
            return None
        return Person(email=f"{user_id[2:].lower()}@example.com", slack_user_id=user_id)


def resolver(slack: Slack, clock: Clock, **kwargs: float) -> ApproverGroups:
    return ApproverGroups(slack, People(), clock=clock, **kwargs)  # type: ignore[arg-type]


async def test_members_become_emails_without_deactivated_or_bot_users() -> None:
    slack = Slack({"S0ONCALL1": ["U_CAROL", "U_GONE", "U_BOT", "U_DAVE", "U_CAROL"]})
    groups = await resolver(slack, Clock()).resolve(["S0ONCALL1"])
    assert groups == [
        ApproverGroup(group_id="S0ONCALL1", members=["carol@example.com", "dave@example.com"])
    ]


async def test_a_disabled_or_unknown_group_has_no_members() -> None:
    groups = await resolver(Slack({"S0ONCALL1": None}), Clock()).resolve(["S0ONCALL1"])
    assert groups == [ApproverGroup(group_id="S0ONCALL1", members=[])]


async def test_one_call_per_group_until_the_cache_expires() -> None:
    slack, clock = Slack({"S0ONCALL1": ["U_CAROL"]}), Clock()
    groups = resolver(slack, clock, ttl=60)
    for _ in range(5):
        await groups.resolve(["S0ONCALL1"])
    assert slack.calls == ["S0ONCALL1"]
    clock.now += 59.9
    await groups.resolve(["S0ONCALL1"])
    assert slack.calls == ["S0ONCALL1"]
    clock.now += 0.2  # expired: asked again, and the change is seen
    slack.groups["S0ONCALL1"] = ["U_DAVE"]
    [group] = await groups.resolve(["S0ONCALL1"])
    assert group.members == ["dave@example.com"]
    assert slack.calls == ["S0ONCALL1", "S0ONCALL1"]


async def test_the_cache_keeps_at_most_max_groups() -> None:
    ids = [f"S0GROUP{i:02d}" for i in range(3)]
    slack = Slack({g: ["U_CAROL"] for g in ids})
    groups = resolver(slack, Clock(), max_groups=2)
    await groups.resolve(ids)  # the first is evicted by the third
    await groups.resolve(ids[1:])
    assert slack.calls == ids
    await groups.resolve(ids[:1])
    assert slack.calls == [*ids, ids[0]]


async def test_a_group_at_the_limit_resolves_and_one_over_is_refused() -> None:
    at_limit = [f"U_P{i:03d}" for i in range(MAX_GROUP_MEMBERS)]
    slack = Slack({"S0BIGTEAM": at_limit, "S0HUGETEAM": [*at_limit, "U_ONEMORE"]})
    groups = resolver(slack, Clock())
    [group] = await groups.resolve(["S0BIGTEAM"])
    assert len(group.members) == MAX_GROUP_MEMBERS
    with pytest.raises(GroupTooLargeError) as caught:
        await groups.resolve(["S0HUGETEAM"])
    assert caught.value.size == MAX_GROUP_MEMBERS + 1
