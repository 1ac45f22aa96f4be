""" "Request again": the button's value is bounded and untrusted; the form is filled in from
what still holds and says, one line each, what it could not fill in."""

from __future__ import annotations

import json

import pytest

from services.intake.domain.again import DURATION_GONE, PROFILE_GONE, again_form
from services.intake.domain.device_index import DeviceIndex
from shared.contracts.events import EXAMPLE_REQUEST_ID, DeviceSnapshot
from shared.profiles import ProfilesConfig, load_profiles
from shared.slack_ids import AgainValue
from shared.slack_limits import BUTTON_VALUE, ELLIPSIS, MAX_REASON
from tests.conftest import PROFILES_PATH

ERIN = "erin@example.com"
LAPTOP = DeviceSnapshot(
    node_id="nErinLaptopCNTRL",
    name="erin-laptop.tail1234.ts.net",
    hostname="erin-laptop",
    owner=ERIN,
    os="macOS",
)
BOBS = DeviceSnapshot(
    node_id="nBobPcCNTRL", name="bob-pc.tail1234.ts.net", hostname="bob-pc", owner="bob@ex.com"
)


@pytest.fixture(scope="module")
def profiles() -> ProfilesConfig:
    return load_profiles(PROFILES_PATH)


@pytest.fixture
def devices() -> DeviceIndex:
    index = DeviceIndex()
    index.put(LAPTOP)
    index.put(BOBS)
    return index


def value(**changes: object) -> AgainValue:
    base: dict[str, object] = {
        "request_id": EXAMPLE_REQUEST_ID,
        "profile_id": "prod",
        "device_id": LAPTOP.node_id,
        "duration_seconds": 3600,
        "reason": "INC-4211",
    }
    return AgainValue(**{**base, **changes})  # type: ignore[arg-type]


# -- the value -------------------------------------------------------------------------------


def test_a_value_round_trips() -> None:
    original = value(reason="Grüße, “quotes” and\nnew lines")
    assert AgainValue.decode(original.encode()) == original


@pytest.mark.parametrize("letter", ["a", '"', "\\", "é", "\u0001", "x\n"])
def test_the_longest_reason_is_clipped_to_fit_a_button_value(letter: str) -> None:
    encoded = value(reason=letter * MAX_REASON).encode()
    assert len(encoded) <= BUTTON_VALUE
    decoded = AgainValue.decode(encoded)
    assert decoded.reason.endswith(ELLIPSIS)
    assert len(decoded.reason) > 100  # clipped to what fits, not dropped
    assert (letter * MAX_REASON).startswith(decoded.reason[:-1])
    assert (decoded.profile_id, decoded.device_id, decoded.duration_seconds) == (
        "prod",
        LAPTOP.node_id,
        3600,
    )
    # nothing clipped that fitted: a reason just under the limit is kept whole
    room = value(reason="").encode()
    fits = "b" * (BUTTON_VALUE - len(room) - len(',"w":""'))
    assert AgainValue.decode(value(reason=fits).encode()).reason == fits


def test_ids_that_cannot_fit_leave_only_the_request_id() -> None:
    encoded = value(profile_id="p" * 1500, device_id="d" * 1500).encode()
    assert len(encoded) <= BUTTON_VALUE
    assert AgainValue.decode(encoded) == AgainValue(request_id=EXAMPLE_REQUEST_ID)


@pytest.mark.parametrize(
    "raw",
    [
        "garbage",
        "[]",
        json.dumps({"r": "not-an-id"}),
        json.dumps({"r": EXAMPLE_REQUEST_ID, "s": "3600"}),
        json.dumps({"r": EXAMPLE_REQUEST_ID, "s": -5}),
        json.dumps({"r": EXAMPLE_REQUEST_ID, "s": True}),
        json.dumps({"r": EXAMPLE_REQUEST_ID, "p": 7}),
        json.dumps({"r": EXAMPLE_REQUEST_ID, "d": "d" * 151}),
        json.dumps({"r": EXAMPLE_REQUEST_ID, "w": "w" * (MAX_REASON + 1)}),
        json.dumps({"r": EXAMPLE_REQUEST_ID, "w": "w" * BUTTON_VALUE}),
    ],
)
def test_a_value_this_app_could_not_have_written_is_refused(raw: str) -> None:
    with pytest.raises(ValueError, match="request-again value"):
        AgainValue.decode(raw)


# -- what the form fills in ------------------------------------------------------------------


def test_everything_that_still_holds_is_filled_in(
    profiles: ProfilesConfig, devices: DeviceIndex
) -> None:
    form = again_form(value(), profiles, devices, ERIN)
    assert form.profile is not None
    assert form.profile.id == "prod"
    assert form.prefill.device == LAPTOP
    assert form.prefill.own_device
    assert form.prefill.duration_seconds == 3600
    assert form.prefill.reason == "INC-4211"
    assert form.notes == ()


def test_a_removed_profile_opens_the_empty_form_saying_so(
    profiles: ProfilesConfig, devices: DeviceIndex
) -> None:
    form = again_form(value(profile_id="retired"), profiles, devices, ERIN)
    assert form.profile is None
    assert form.notes == (PROFILE_GONE,)


def test_a_device_gone_or_no_longer_allowed_is_left_empty_with_one_line(
    profiles: ProfilesConfig, devices: DeviceIndex
) -> None:
    gone = again_form(value(device_id="nGoneCNTRL"), profiles, devices, ERIN)
    assert gone.prefill.device is None
    assert gone.notes == ("That device is not known (any more); choose another one.",)
    assert gone.prefill.duration_seconds == 3600  # the rest is still filled in

    not_own = again_form(value(device_id=BOBS.node_id), profiles, devices, ERIN)
    assert not_own.prefill.device is None
    assert not_own.notes == ("Production can only be granted on your own (untagged) devices.",)

    anyone = again_form(
        value(profile_id="staging", device_id=BOBS.node_id), profiles, devices, ERIN
    )
    assert anyone.prefill.device == BOBS
    assert not anyone.prefill.own_device  # its option names whose it is
    assert anyone.notes == ()


def test_a_duration_now_over_the_maximum_or_not_offered_is_left_empty(
    profiles: ProfilesConfig, devices: DeviceIndex
) -> None:
    over = again_form(value(duration_seconds=86400), profiles, devices, ERIN)
    assert over.prefill.duration_seconds is None
    assert over.notes == (
        "1 day is longer than Production allows (8 hours). Choose a duration it allows.",
    )
    odd = again_form(value(duration_seconds=3601), profiles, devices, ERIN)
    assert odd.prefill.duration_seconds is None
    assert odd.notes == (DURATION_GONE,)
