"""The sandbox's Slack workspace: its people live in different time zones, as Slack says."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from accessbot.sandbox import SANDBOX_REQUESTER, sandbox_workspace
from services.intake.domain.approvers import local_time
from shared.profiles import load_profiles
from tests.conftest import REPO_ROOT

SHIPPED = load_profiles(REPO_ROOT / "profiles.yaml")
WINTER = datetime(2026, 12, 5, 9, 30, tzinfo=UTC)
SUMMER = datetime(2026, 7, 1, 9, 30, tzinfo=UTC)


def _people(now: datetime) -> dict[str, dict[str, Any]]:
    return {u["email"]: u for u in sandbox_workspace(SHIPPED, now)["users"]}


def test_the_approvers_of_each_shipped_profile_show_different_local_times() -> None:
    people = _people(WINTER)
    for profile in SHIPPED.profiles:
        emails = profile.approvers.emails
        times = {local_time(people[e]["tz_offset"], WINTER) for e in emails}
        assert len(times) == len(emails), (profile.id, times)
    assert people[SANDBOX_REQUESTER]["tz"] == "Europe/London"


def test_offsets_and_labels_follow_daylight_saving_as_users_info_reports_them() -> None:
    winter, summer = _people(WINTER), _people(SUMMER)
    assert (winter["alice@example.com"]["tz"], winter["alice@example.com"]["tz_offset"]) == (
        "Europe/Berlin",
        3600,
    )
    assert summer["alice@example.com"]["tz_offset"] == 7200
    assert winter["alice@example.com"]["tz_label"] == "Central European Time"
    assert summer["alice@example.com"]["tz_label"] == "Central European Summer Time"
    assert winter[SANDBOX_REQUESTER]["tz_label"] == "Greenwich Mean Time"
    assert summer[SANDBOX_REQUESTER]["tz_label"] == "British Summer Time"
    for person in winter.values():
        assert -14 * 3600 <= person["tz_offset"] <= 14 * 3600
