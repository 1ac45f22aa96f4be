"""Golden JSON of every modal and the device options: what users see, pinned.

A change here is a change people will see. Regenerate deliberately with
`ACCESSBOT_REGENERATE_GOLDEN=1 pytest tests/intake/test_intake_golden.py` and
review the diff of tests/intake/golden/.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.views import View

from services.intake.domain.action_modals import deny_modal, extend_modal, revoke_modal
from services.intake.domain.approvers import ApproverCandidate
from services.intake.domain.device_index import DeviceSearch
from services.intake.domain.device_options import device_option_groups, suggestion_response
from services.intake.domain.metadata import ModalMetadata
from services.intake.domain.request_modal import approver_suggestions, request_modal
from shared.contracts.events import EXAMPLE_EXTENSION_ID, EXAMPLE_REQUEST_ID, DeviceSnapshot
from shared.profiles import ProfilesConfig, load_profiles, parse_profiles
from tests.conftest import PROFILES_PATH

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("ACCESSBOT_REGENERATE_GOLDEN") == "1"
REQUESTER = "erin@example.com"
NAMES = {
    "alice@example.com": "Alice Example",
    "bob@example.com": "Bob Builder",
    "dave@example.com": "Dave Ops",
}
# users.info tz_offset: Berlin in winter, Los Angeles in winter; Dave's is unknown.
OFFSETS = {"alice@example.com": 3600, "bob@example.com": -28800, "carol@example.com": 19800}
# Saturday 6 December 2026, 13:05 UTC: what the local times are rendered for.
NOW = datetime(2026, 12, 5, 13, 5, tzinfo=UTC)


def check(name: str, document: dict[str, Any]) -> None:
    path = GOLDEN / f"{name}.json"
    text = json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if REGENERATE:
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: regenerate deliberately (see module docstring)"
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(text), (
        f"{name} differs from {path}; if intended, regenerate and review the diff"
    )


def view_json(view: View) -> dict[str, Any]:
    view.validate_json()  # slack_sdk's own Block Kit limit checks
    document = view.to_dict()
    assert len(document["blocks"]) <= 100
    assert len(document["title"]["text"]) <= 24
    assert len(document["submit"]["text"]) <= 24
    assert len(document.get("private_metadata", "")) <= 3000
    return json.loads(json.dumps(document))


@pytest.fixture(scope="module")
def profiles() -> ProfilesConfig:
    return load_profiles(PROFILES_PATH)


def candidates(profiles: ProfilesConfig, profile_id: str) -> list[ApproverCandidate]:
    profile = profiles.get(profile_id)
    assert profile is not None
    return candidates_of(profile.eligible_approvers(REQUESTER))


def test_request_modal_before_a_profile_is_chosen(profiles: ProfilesConfig) -> None:
    view = request_modal(profiles, ModalMetadata(request_id=EXAMPLE_REQUEST_ID))
    check("request_modal_initial", view_json(view))


@pytest.mark.parametrize("profile_id", ["prod", "prod-db", "staging", "break-glass"])
def test_request_modal_per_profile(profiles: ProfilesConfig, profile_id: str) -> None:
    profile = profiles.get(profile_id)
    assert profile is not None
    view = request_modal(
        profiles,
        ModalMetadata(request_id=EXAMPLE_REQUEST_ID, profile_id=profile_id),
        profile=profile,
        approvers=candidates(profiles, profile_id),
        now=NOW,
    )
    check(f"request_modal_{profile_id.replace('-', '_')}", view_json(view))


def test_radio_options_show_each_approvers_local_time(profiles: ProfilesConfig) -> None:
    profile = profiles.get("staging")
    assert profile is not None
    view = request_modal(
        profiles,
        ModalMetadata(request_id=EXAMPLE_REQUEST_ID, profile_id="staging"),
        profile=profile,
        approvers=candidates(profiles, "staging"),
        now=NOW,
    )
    approver = next(b for b in view_json(view)["blocks"] if b.get("block_id") == "approver")
    described = {
        o["text"]["text"]: o["description"]["text"] for o in approver["element"]["options"]
    }
    assert described["Alice Example"] == "Sat 14:05 local time · alice@example.com"
    assert described["Bob Builder"] == "Sat 05:05 local time · bob@example.com"
    assert described["Dave Ops"] == "dave@example.com"  # no time zone known: no time


def test_a_quorum_profile_names_who_can_approve_with_local_times(
    profiles: ProfilesConfig,
) -> None:
    profile = profiles.get("prod-db")
    assert profile is not None
    view = request_modal(
        profiles,
        ModalMetadata(request_id=EXAMPLE_REQUEST_ID, profile_id="prod-db"),
        profile=profile,
        approvers=candidates(profiles, "prod-db"),
        now=NOW,
    )
    shown = next(b for b in view_json(view)["blocks"] if b.get("block_id") == "approvers_shown")
    assert shown["elements"][0]["text"] == (
        "*Who can approve* (local time now): <@UALICE> (Sat 14:05), <@UBOB> (Sat 05:05) "
        "and carol@example.com (Sat 18:35)"
    )


def test_a_group_profile_names_members_and_the_groups_slack_could_not_read() -> None:
    config = parse_profiles(
        {
            "profiles": [
                {
                    "id": "oncall",
                    "description": "On-call approves",
                    "attribute": "custom:oncallAccess",
                    "approvers": {
                        "emails": ["alice@example.com"],
                        "slack_groups": ["S0ONCALL1", "S0ONCALL2"],
                    },
                }
            ]
        },
        Path("inline"),
    )
    profile = config.profiles[0]
    members = [
        ApproverCandidate(
            email=f"oncall{i}@example.com",
            name=f"On-call {i}",
            slack_user_id=f"U0ONCALL{i:02d}",
            tz_offset=-18000,
        )
        for i in range(11)
    ]
    view = request_modal(
        config,
        ModalMetadata(request_id=EXAMPLE_REQUEST_ID, profile_id="oncall"),
        profile=profile,
        approvers=[*candidates_of(["alice@example.com"]), *members],
        now=NOW,
        unread_groups=["S0ONCALL2"],
    )
    document = view_json(view)
    shown = next(b for b in document["blocks"] if b.get("block_id") == "approvers_shown")
    text = shown["elements"][0]["text"]
    assert "<@U0ONCALL08> (Sat 08:05) and 2 more" in text  # 12 people, 10 named
    assert text.endswith(
        "The members of <!subteam^S0ONCALL2> could not be read from Slack just now."
    )
    assert not any(b.get("block_id") == "approver" for b in document["blocks"])
    check("request_modal_group_profile", document)


def candidates_of(emails: list[str]) -> list[ApproverCandidate]:
    return [
        ApproverCandidate(
            email=e,
            name=NAMES.get(e),
            slack_user_id=f"U{e.split('@')[0].upper()}" if e in NAMES else None,
            tz_offset=OFFSETS.get(e),
        )
        for e in emails
    ]


def wide_profile(count: int) -> ProfilesConfig:
    return parse_profiles(
        {
            "profiles": [
                {
                    "id": "wide",
                    "description": "Shared tooling",
                    "attribute": "custom:toolingAccess",
                    "approvers": {"emails": [f"approver{i}@example.com" for i in range(count)]},
                }
            ]
        },
        Path("inline"),
    )


def test_request_modal_with_many_approvers_searches_only_the_eligible() -> None:
    wide = wide_profile(12)
    profile = wide.profiles[0]
    view = request_modal(
        wide,
        ModalMetadata(request_id=EXAMPLE_REQUEST_ID, profile_id="wide"),
        profile=profile,
        approvers=[ApproverCandidate(email=e) for e in profile.approvers.emails],
        now=NOW,
    )
    document = view_json(view)
    approver = next(b for b in document["blocks"] if b.get("block_id") == "approver")
    # Not a users_select (the whole workspace): an external select intake answers.
    assert approver["element"]["type"] == "external_select"
    assert approver["element"]["action_id"] == "approver_select"
    assert approver["optional"] is True
    check("request_modal_many_approvers", document)


def test_approver_search_options() -> None:
    found = [
        ApproverCandidate(
            email=f"approver{i}@example.com",
            name=f"Approver {i}",
            slack_user_id=f"U{i:04d}",
            tz_offset=(i - 6) * 3600,
        )
        for i in range(12)
    ]
    answer = approver_suggestions(found, "approver 1", NOW)
    # "approver 1" matches Approver 1, 10 and 11 (every word, name or email)
    assert [o["text"]["text"] for o in answer["options"]] == [
        "Approver 1",
        "Approver 10",
        "Approver 11",
    ]
    check("approver_options_query_1", json.loads(json.dumps(answer)))


def test_approver_search_answers_at_most_100_options() -> None:
    found = [ApproverCandidate(email=f"approver{i}@example.com") for i in range(150)]
    answer = approver_suggestions(found, "", NOW)
    assert len(answer["options"]) == 100
    assert answer["options"][0]["text"]["text"] == "approver0@example.com"
    assert answer["options"][-1]["text"]["text"] == "approver99@example.com"


def test_deny_revoke_and_extend_modals() -> None:
    meta = ModalMetadata(
        request_id=EXAMPLE_REQUEST_ID,
        extension_id=EXAMPLE_EXTENSION_ID,
        pressed_at="1764493200.000100",
    )
    check("deny_modal", view_json(deny_modal(meta)))
    check("revoke_modal", view_json(revoke_modal(meta)))
    check(
        "extend_modal",
        view_json(extend_modal(meta, maximum=timedelta(hours=8), require_reason=True)),
    )


def test_device_options() -> None:
    seen = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    own = [
        DeviceSnapshot(
            node_id="nErinMacCNTRL",
            name="erin-mac.tail1234.ts.net",
            hostname="Erins-MacBook",
            owner=REQUESTER,
            os="macOS",
            addresses=["100.64.0.7", "fd7a:115c:a1e0::7"],
            connected_to_control=True,
        ),
        DeviceSnapshot(
            node_id="nErinPhoneCNTRL",
            name="erin-phone.tail1234.ts.net",
            hostname="erin-phone",
            owner=REQUESTER,
            os="iOS",
            addresses=["100.64.0.8"],
            last_seen=seen,
            connected_to_control=False,
        ),
    ]
    others = [
        DeviceSnapshot(
            node_id="nDbCNTRL",
            name="db-1.tail1234.ts.net",
            hostname="db-1",
            owner="bob@example.com",
            tags=["tag:db", "tag:prod"],
            os="linux",
            addresses=["100.64.1.1"],
            connected_to_control=True,
        )
    ]
    answer = suggestion_response(device_option_groups(DeviceSearch(own=own, others=others)))
    check("device_options", json.loads(json.dumps(answer)))
