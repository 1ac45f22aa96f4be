"""Request and extension validation against profiles.yaml and the device index (pure)."""

from __future__ import annotations

from datetime import timedelta

import pytest

from services.intake.domain.approvers import fits_radio_buttons
from services.intake.domain.device_index import DeviceIndex
from services.intake.domain.durations_text import human_duration
from services.intake.domain.validation import (
    Submission,
    ValidRequest,
    validate_extension,
    validate_request,
)
from shared.contracts.events import DeviceSnapshot
from shared.profiles import ProfilesConfig, load_profiles
from shared.slack_ids import ANY_APPROVER, BlockId
from tests.conftest import PROFILES_PATH

ERIN = "erin@example.com"
HOUR = "3600"


@pytest.fixture(scope="module")
def profiles() -> ProfilesConfig:
    return load_profiles(PROFILES_PATH)


@pytest.fixture(scope="module")
def devices() -> DeviceIndex:
    index = DeviceIndex()
    index.put(
        DeviceSnapshot(node_id="nErin", name="erin-mac.ts.net", hostname="erin-mac", owner=ERIN)
    )
    index.put(
        DeviceSnapshot(
            node_id="nBob", name="bob-pc.ts.net", hostname="bob-pc", owner="bob@example.com"
        )
    )
    index.put(
        DeviceSnapshot(
            node_id="nServer", name="db.ts.net", hostname="db", owner=ERIN, tags=["tag:db"]
        )
    )
    return index


def submit(profiles: ProfilesConfig, devices: DeviceIndex, **changes: object):
    values: dict[str, object] = {
        "profile_id": "prod",
        "device_id": "nErin",
        "duration": HOUR,
        "approver": ANY_APPROVER,
        "reason": "INC-4211",
    }
    values.update(changes)
    return validate_request(
        Submission(**values),  # type: ignore[arg-type]
        requester_email=ERIN,
        profiles=profiles,
        devices=devices,
    )


def test_a_valid_request(profiles: ProfilesConfig, devices: DeviceIndex) -> None:
    result = submit(profiles, devices, approver="Bob@Example.com", reason="  INC-4211  ")
    assert isinstance(result, ValidRequest)
    assert (result.profile.id, result.device.node_id, result.duration_seconds) == (
        "prod",
        "nErin",
        3600,
    )
    assert result.approver_email == "bob@example.com"
    assert result.reason == "INC-4211"
    assert submit(profiles, devices).approver_email is None


@pytest.mark.parametrize(
    ("changes", "block", "words"),
    [
        ({"profile_id": "nope"}, BlockId.PROFILE, "does not exist"),
        ({"profile_id": None}, BlockId.PROFILE, "Choose what"),
        ({"duration": str(9 * 3600)}, BlockId.DURATION, "9 hours is longer than Production"),
        ({"duration": None}, BlockId.DURATION, "how long"),
        ({"duration": "soon"}, BlockId.DURATION, "durations offered"),
        ({"device_id": "nGone"}, BlockId.DEVICE, "not known"),
        ({"device_id": None}, BlockId.DEVICE, "Choose a device"),
        ({"device_id": "nBob"}, BlockId.DEVICE, "your own"),
        ({"device_id": "nServer"}, BlockId.DEVICE, "your own"),
        ({"approver": "mallory@example.com"}, BlockId.APPROVER, "not an approver"),
        ({"reason": "   "}, BlockId.REASON, "Say why"),
        ({"reason": "x" * 3001}, BlockId.REASON, "3000"),
    ],
)
def test_each_problem_is_reported_under_its_field(
    profiles: ProfilesConfig,
    devices: DeviceIndex,
    changes: dict[str, object],
    block: BlockId,
    words: str,
) -> None:
    result = submit(profiles, devices, **changes)
    assert isinstance(result, dict)
    assert list(result) == [block.value]
    assert words in result[block.value]


def test_every_problem_at_once(profiles: ProfilesConfig, devices: DeviceIndex) -> None:
    result = submit(
        profiles, devices, device_id="nBob", duration="99999", approver="x@example.com", reason=""
    )
    assert isinstance(result, dict)
    assert set(result) == {"device", "duration", "approver", "reason"}


def test_self_approval_follows_the_profile(profiles: ProfilesConfig, devices: DeviceIndex) -> None:
    # prod: alice may not approve her own request
    alice = validate_request(
        Submission("prod", "nErin", HOUR, "alice@example.com", "why"),
        requester_email="alice@example.com",
        profiles=profiles,
        devices=devices,
    )
    assert isinstance(alice, dict)
    assert "own request" in alice["approver"]
    assert "device" in alice
    # staging allows it (and any device)
    staging = validate_request(
        Submission("staging", "nBob", HOUR, "alice@example.com", ""),
        requester_email="alice@example.com",
        profiles=profiles,
        devices=devices,
    )
    assert isinstance(staging, ValidRequest)
    assert staging.approver_email == "alice@example.com"
    assert staging.reason == ""  # staging does not require one


def test_quorum_profiles_ignore_any_approver_choice(
    profiles: ProfilesConfig, devices: DeviceIndex
) -> None:
    result = submit(profiles, devices, profile_id="prod-db", approver="mallory@example.com")
    assert isinstance(result, ValidRequest)
    assert result.approver_email is None


def test_eligible_approvers_leave_the_requester_out_unless_allowed(
    profiles: ProfilesConfig,
) -> None:
    prod, staging = profiles.get("prod"), profiles.get("staging")
    assert prod is not None
    assert staging is not None
    assert prod.eligible_approvers("ALICE@example.com") == ["bob@example.com"]
    assert "alice@example.com" in staging.eligible_approvers("alice@example.com")
    assert fits_radio_buttons(9)
    assert not fits_radio_buttons(10)  # 10 people + "Any" exceed radio buttons' 10 options


def test_extension_checks() -> None:
    limit = timedelta(hours=8)
    assert validate_extension("3600", " more ", maximum=limit, require_reason=True) == (
        3600,
        "more",
    )
    assert validate_extension("3600", "", maximum=limit, require_reason=False) == (3600, "")
    errors = validate_extension(str(9 * 3600), "", maximum=limit, require_reason=True)
    assert errors == {
        "extend_duration": "9 hours is more than an extension may add (8 hours).",
        "extend_reason": "Say why you need more time.",
    }
    assert set(validate_extension(None, "x" * 3001, maximum=limit, require_reason=False)) == {
        "extend_duration",
        "extend_reason",
    }


def test_human_durations() -> None:
    assert [human_duration(timedelta(seconds=s)) for s in (900, 3600, 7200, 86400, 5400, 61)] == [
        "15 minutes",
        "1 hour",
        "2 hours",
        "1 day",
        "90 minutes",
        "1m1s",
    ]
