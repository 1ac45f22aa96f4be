"""The request form at the maxima: 100 and 101 profiles, long approver emails, 63-character
device names, and what comes back from Slack parsed safely. Golden JSON pins what is shown
(regenerate as tests/intake/test_intake_golden.py says)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from emulators.slack.blockkit import validate_options_response, validate_view
from services.intake.domain.approvers import (
    ApproverCandidate,
    approver_for_value,
    approver_value,
    is_approver_value,
)
from services.intake.domain.device_index import DeviceSearch
from services.intake.domain.device_options import device_option_groups, suggestion_response
from services.intake.domain.metadata import ModalMetadata
from services.intake.domain.request_modal import (
    approver_suggestions,
    profile_suggestions,
    request_modal,
)
from services.intake.domain.validation import Submission, validate_request
from shared.contracts.events import EXAMPLE_REQUEST_ID, DeviceSnapshot
from shared.profiles import ProfilesConfig, parse_profiles
from shared.slack_limits import OPTION_VALUE
from tests.intake.test_intake_golden import NOW, check, view_json

REQUESTER = "erin@example.com"


def _email(index: int, length: int = 60) -> str:
    local = f"approver{index:02d}."
    return f"{local}{'x' * (length - len(local) - len('@example.com'))}@example.com"


def many_profiles(count: int, approvers: list[str] | None = None) -> ProfilesConfig:
    emails = approvers or ["alice@example.com"]
    return parse_profiles(
        {
            "profiles": [
                {
                    "id": f"p{index:03d}",
                    "description": f"Profile {index:03d} " + "d" * 63,  # 75, the most allowed
                    "attribute": f"custom:access{index:03d}",
                    "approvers": {"emails": emails},
                    "devices": "any",
                }
                for index in range(count)
            ]
        },
        Path("inline"),
    )


def _checked_view(name: str, profiles: ProfilesConfig, profile_id: str | None) -> dict[str, Any]:
    profile = profiles.get(profile_id) if profile_id else None
    approvers = [ApproverCandidate(email=e) for e in profile.approvers.emails] if profile else []
    view = request_modal(
        profiles,
        ModalMetadata(request_id=EXAMPLE_REQUEST_ID, profile_id=profile_id),
        profile=profile,
        approvers=approvers,
    )
    document = view_json(view)
    assert validate_view(document) == []
    check(name, document)
    return document


def _profile_element(document: dict[str, Any]) -> dict[str, Any]:
    block = next(b for b in document["blocks"] if b.get("block_id") == "profile")
    return dict(block["element"])


def test_100_profiles_are_listed() -> None:
    document = _checked_view("request_modal_100_profiles", many_profiles(100), None)
    element = _profile_element(document)
    assert element["type"] == "static_select"
    assert len(element["options"]) == 100


def test_101_profiles_are_searched() -> None:
    profiles = many_profiles(101)
    document = _checked_view("request_modal_101_profiles", profiles, None)
    element = _profile_element(document)
    assert element["type"] == "external_select"
    assert element["min_query_length"] == 0
    chosen = _checked_view("request_modal_101_profiles_chosen", profiles, "p100")
    assert _profile_element(chosen)["initial_option"]["value"] == "p100"

    everything = profile_suggestions(profiles, "")
    assert validate_options_response(everything) == []
    assert len(everything["options"]) == 100, "at most what Slack shows; typing narrows it"
    narrowed = profile_suggestions(profiles, "profile 100")
    assert [o["value"] for o in narrowed["options"]] == ["p100"]
    check("profile_options_101_profiles_query_10", profile_suggestions(profiles, "10"))


def test_approver_options_with_long_emails_stay_within_the_value_limit() -> None:
    emails = [_email(i, length=254 - i) for i in range(9)]  # the longest an address may be
    profiles = many_profiles(1, emails)
    document = _checked_view("request_modal_long_approver_emails", profiles, "p000")
    radio = next(b for b in document["blocks"] if b.get("block_id") == "approver")["element"]
    values = [o["value"] for o in radio["options"][1:]]
    assert all(len(v) <= OPTION_VALUE for v in values)
    assert [approver_for_value(v, emails) for v in values] == emails

    # the chosen value comes back from Slack and is turned into the approver's email
    profile = profiles.profiles[0]
    result = validate_request(
        Submission(
            profile_id=profile.id,
            device_id=None,
            duration="3600",
            approver=values[3],
            reason="why",
        ),
        requester_email=REQUESTER,
        profiles=profiles,
        devices=_NoDevices(),
    )
    assert isinstance(result, dict)
    assert "approver" not in result, "a known approver value is accepted"


def test_an_approver_value_nobody_has_is_refused_with_one_line() -> None:
    profiles = many_profiles(1, ["alice@example.com"])
    forged = approver_value("mallory@example.com")
    assert is_approver_value(forged)
    result = validate_request(
        Submission(profile_id="p000", device_id=None, duration="3600", approver=forged, reason=""),
        requester_email=REQUESTER,
        profiles=profiles,
        devices=_NoDevices(),
    )
    assert isinstance(result, dict)
    assert result["approver"] == "That approver is not offered any more; choose again."


def test_sixty_approvers_with_long_emails_use_the_approver_search() -> None:
    profiles = many_profiles(1, [_email(i) for i in range(60)])
    document = _checked_view("request_modal_60_approvers", profiles, "p000")
    approver = next(b for b in document["blocks"] if b.get("block_id") == "approver")
    assert approver["element"]["type"] == "external_select"


def test_approver_search_with_long_names_and_emails_fits_slacks_limits() -> None:
    emails = [_email(i, length=254 - i) for i in range(120)]
    found = [
        ApproverCandidate(email=e, name="N" * 300, slack_user_id=f"U{i:05d}", tz_offset=50400)
        for i, e in enumerate(emails)
    ]
    answer = json.loads(json.dumps(approver_suggestions(found, "", NOW)))
    assert validate_options_response(answer) == []
    assert len(answer["options"]) == 100  # Slack shows at most 100
    first = answer["options"][0]
    assert len(first["text"]["text"]) == 75
    assert first["description"]["text"].startswith("Sun 03:05 local time · approver00.")
    assert len(first["description"]["text"]) == 75


def test_device_options_with_63_character_names() -> None:
    name = "a" * 63
    devices = [
        DeviceSnapshot(
            node_id=f"n{index}{'N' * 60}"[:64],
            name=f"{name[:-2]}{index:02d}.tail1234.ts.net",
            hostname=f"{name[:-2]}{index:02d}",
            owner=_email(index),
            tags=[] if index else [f"tag:{'t' * 60}"],
            os="windows",
            addresses=["100.100.100.100"],
            connected_to_control=False,
        )
        for index in range(3)
    ]
    answer = json.loads(
        json.dumps(
            suggestion_response(device_option_groups(DeviceSearch(own=devices[:1], others=devices)))
        )
    )
    assert validate_options_response(answer) == []
    texts = [o["text"]["text"] for g in answer["option_groups"] for o in g["options"]]
    assert all(len(t) <= 75 for t in texts)
    assert all(t.startswith(name[:-2]) for t in texts), "the name is shown first, whole"
    check("device_options_63_character_names", answer)


class _NoDevices:
    def get(self, node_id: str) -> DeviceSnapshot | None:
        return None
