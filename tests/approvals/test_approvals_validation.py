"""Re-validation of submissions: every problem is named, none is dropped."""

from __future__ import annotations

import pytest

from services.approvals.domain.validation import submission_problems
from shared.contracts.events import DeviceSnapshot, Problem
from tests.approvals.factories import device, person, profiles, submitted


def problems(device_snapshot: DeviceSnapshot | None = None, **overrides: object) -> list[Problem]:
    return submission_problems(
        submitted(**overrides), profiles(), device_snapshot if device_snapshot else device()
    )


def test_a_valid_submission_has_no_problem() -> None:
    assert problems() == []


def test_an_unknown_profile_is_a_problem() -> None:
    [problem] = problems(profile_id="nope")
    assert problem.field == "profile"
    assert "nope" in problem.message


def test_a_duration_over_the_profile_maximum_is_a_problem() -> None:
    [problem] = problems(duration_seconds=8 * 3600 + 1)
    assert problem.field == "duration"
    assert "8h" in problem.message


def test_a_missing_reason_is_a_problem_when_required() -> None:
    [problem] = problems(reason="   ")
    assert problem.field == "reason"
    assert problems(profile_id="staging", reason="") == []


def test_an_unknown_device_is_a_problem() -> None:
    found = submission_problems(submitted(), profiles(), None)
    assert [p.field for p in found] == ["device"]


def test_someone_elses_device_is_a_problem_for_own_devices_profiles() -> None:
    [problem] = problems(device(owner="erin@example.com"))
    assert problem.field == "device"
    assert "not yours" in problem.message


def test_the_owner_is_compared_case_insensitively() -> None:
    assert problems(device(owner="DAVE@example.COM")) == []


def test_a_tagged_device_is_a_problem_for_own_devices_profiles() -> None:
    [problem] = problems(device(tags=["tag:server"]))
    assert problem.field == "device"
    assert "tagged" in problem.message


def test_any_device_is_fine_where_the_profile_allows_any() -> None:
    assert problems(device(owner=None, tags=["tag:db"]), profile_id="prod-db") == []


def test_a_chosen_approver_who_is_not_eligible_is_a_problem() -> None:
    [problem] = problems(approver_email="mallory@example.com")
    assert problem.field == "approver"


def test_choosing_yourself_without_self_approval_is_a_problem() -> None:
    [problem] = problems(approver_email="dave@example.com")
    assert problem.field == "approver"
    assert "own request" in problem.message


@pytest.mark.parametrize("profile_id", ["staging", "confirm"])
def test_choosing_yourself_is_fine_where_self_approval_is_allowed(profile_id: str) -> None:
    assert problems(profile_id=profile_id, approver_email="dave@example.com") == []


@pytest.mark.parametrize("profile_id", ["staging", "confirm"])
def test_self_approval_is_only_for_listed_approvers(profile_id: str) -> None:
    erin = person("erin@example.com")
    [problem] = problems(profile_id=profile_id, requester=erin, approver_email="erin@example.com")
    assert problem.field == "approver"
    assert "not an approver" in problem.message


def test_a_quorum_that_only_the_requester_could_complete_is_a_problem() -> None:
    # `pair` needs alice and bob; alice asking leaves one eligible approver.
    alice = person("alice@example.com")
    [problem] = problems(profile_id="pair", requester=alice)
    assert problem.field == "approver"
    assert "2 approval" in problem.message


def test_every_problem_is_reported_at_once() -> None:
    found = submission_problems(
        submitted(duration_seconds=9 * 3600, reason="", approver_email="mallory@example.com"),
        profiles(),
        device(tags=["tag:server"]),
    )
    assert sorted(p.field for p in found) == ["approver", "device", "duration", "reason"]
