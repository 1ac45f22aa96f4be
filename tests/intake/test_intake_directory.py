"""The identity directory's cache (users.info / users.lookupByEmail): bounded and expiring.

An in-memory UserSource counts the Slack calls; the gateway's reading of Slack's time
zone fields runs against the Slack emulator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackEmulator, User, Workspace
from services.intake.adapters.slack_gateway import SlackGateway
from services.intake.domain.approvers import ApproverCandidate, local_time
from services.intake.handlers.directory import IDENTITY_CACHE_MAX, Directory, SlackUser

BERLIN_WINTER = 3600


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class CountingSlack:
    """users.info / users.lookupByEmail from a dict, counting calls."""

    def __init__(self, *users: SlackUser, failing: frozenset[str] = frozenset()) -> None:
        self.users = {u.id: u for u in users}
        self.failing = failing
        self.info_calls: list[str] = []
        self.email_calls: list[str] = []

    async def user_info(self, user_id: str) -> SlackUser | None:
        self.info_calls.append(user_id)
        return self.users.get(user_id)

    async def user_by_email(self, email: str) -> SlackUser | None:
        self.email_calls.append(email)
        if email in self.failing:
            raise RuntimeError("ratelimited")
        found = next((u for u in self.users.values() if u.email == email), None)
        # Slack's users.lookupByEmail finds no deactivated account.
        return None if found is None or found.deleted else found


def _user(index: int, *, deleted: bool = False) -> SlackUser:
    return SlackUser(
        id=f"U{index}",
        email=f"p{index}@example.com",
        name=f"Person {index}",
        deleted=deleted,
        tz_offset=BERLIN_WINTER,
    )


def test_the_default_limit_is_ten_thousand_people() -> None:
    assert IDENTITY_CACHE_MAX == 10_000


async def test_at_its_limit_the_least_recently_used_person_is_looked_up_again() -> None:
    slack = CountingSlack(_user(1), _user(2), _user(3))
    directory = Directory(slack, max_size=2, clock=Clock())
    for user_id in ("U1", "U2", "U1", "U3"):  # U2 is now the least recently used
        await directory.person(user_id)
    assert slack.info_calls == ["U1", "U2", "U3"]
    assert directory.cached_person("U2") is None
    assert directory.cached_person("U1") is not None
    await directory.person("U2")
    assert slack.info_calls == ["U1", "U2", "U3", "U2"]


async def test_an_entry_expires_after_its_ttl() -> None:
    clock = Clock()
    slack = CountingSlack(_user(1))
    directory = Directory(slack, ttl=300.0, clock=clock)
    await directory.candidates(["p1@example.com"])
    clock.now += 299.0
    await directory.candidates(["p1@example.com"])
    assert slack.email_calls == ["p1@example.com"]
    clock.now += 1.0
    await directory.candidates(["p1@example.com"])
    assert slack.email_calls == ["p1@example.com", "p1@example.com"]


async def test_candidates_leave_deactivated_people_out_and_keep_failed_lookups_bare() -> None:
    slack = CountingSlack(
        _user(1), _user(2, deleted=True), _user(3), failing=frozenset({"p3@example.com"})
    )
    directory = Directory(slack, clock=Clock())
    found = await directory.candidates(["p1@example.com", "p2@example.com", "P3@example.com"])
    assert found == [
        ApproverCandidate(
            email="p1@example.com", name="Person 1", slack_user_id="U1", tz_offset=BERLIN_WINTER
        ),
        ApproverCandidate(email="p3@example.com"),  # Slack failed: still pickable, no time
    ]


async def test_a_group_member_looked_up_by_id_is_shown_without_a_lookup_by_email() -> None:
    slack = CountingSlack(_user(1))
    directory = Directory(slack, clock=Clock())
    await directory.person("U1")
    [shown] = await directory.candidates(["p1@example.com"])
    assert shown.tz_offset == BERLIN_WINTER
    assert slack.email_calls == []


@pytest.fixture
async def slack_emulator() -> AsyncIterator[SlackEmulator]:
    workspace = Workspace()
    workspace.add_user(
        User(
            id="U0KOL",
            name="kol",
            real_name="Kolkata Person",
            email="kol@example.com",
            tz="Asia/Kolkata",
            tz_label="India Standard Time",
            tz_offset=19800,
        )
    )
    workspace.add_user(
        User(id="U0ODD", name="odd", email="odd@example.com", tz_offset=10 * 24 * 3600)
    )
    emu = SlackEmulator(workspace=workspace, bot_token="xoxb-directory")
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


async def test_the_gateway_reads_slacks_tz_offset(slack_emulator: SlackEmulator) -> None:
    gateway = SlackGateway(AsyncWebClient(token="xoxb-directory", base_url=slack_emulator.api_url))
    kolkata = await gateway.user_by_email("kol@example.com")
    assert kolkata is not None
    assert kolkata.tz_offset == 19800
    assert local_time(kolkata.tz_offset, datetime(2026, 12, 5, 13, 5, tzinfo=UTC)) == "Sat 18:35"
    odd = await gateway.user_info("U0ODD")
    assert odd is not None
    assert odd.tz_offset is None  # no clock is ten days off UTC: shown without a time


async def test_cached_people_names_only_those_already_looked_up_and_never_calls_slack() -> None:
    slack = CountingSlack(_user(1), _user(2))
    directory = Directory(slack)
    await directory.candidates(["p1@example.com"])  # the form looked p1 up
    calls = len(slack.email_calls)
    named = directory.cached_people(["P1@example.com", "p2@example.com", "nobody@example.com"])
    assert [(p.email, p.slack_user_id, p.name) for p in named] == [
        ("p1@example.com", "U1", "Person 1")
    ]
    assert len(slack.email_calls) == calls  # p2 was not looked up now
