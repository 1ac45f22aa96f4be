"""Golden JSON of every modal and the device options: what users see, pinned.

A change here is a change people will see. Regenerate deliberately with
`ACCESSBOT_REGENERATE_GOLDEN=1 pytest tests/intake/test_intake_golden.py` and
review the diff of tests/intake/golden/.
"""

from __future__ import annotations

import json
import os
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.models.views import View

from services.intake.domain.action_modals import (
    deny_modal,
    extend_modal,
    extend_offer,
    revoke_modal,
)
from services.intake.domain.again import again_form
from services.intake.domain.approvers import ApproverCandidate
from services.intake.domain.device_index import DeviceIndex, DeviceSearch
from services.intake.domain.device_options import device_option_groups, suggestion_response
from services.intake.domain.metadata import ModalMetadata
from services.intake.domain.request_modal import request_modal
from shared.contracts.events import EXAMPLE_EXTENSION_ID, EXAMPLE_REQUEST_ID, DeviceSnapshot
from shared.profiles import ProfilesConfig, load_profiles, parse_profiles
from shared.slack_ids import AgainValue
from tests.conftest import PROFILES_PATH

GOLDEN = Path(__file__).parent / "golden"
REGENERATE = os.environ.get("ACCESSBOT_REGENERATE_GOLDEN") == "1"
REQUESTER = "erin@example.com"
NAMES = {
    "alice@example.com": "Alice Example",
    "bob@example.com": "Bob Builder",
    "dave@example.com": "Dave Ops",
}


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
    return [
        ApproverCandidate(email=e, name=NAMES.get(e)) for e in profile.eligible_approvers(REQUESTER)
    ]


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
    )
    check(f"request_modal_{profile_id.replace('-', '_')}", view_json(view))


def test_request_again_modals(profiles: ProfilesConfig) -> None:
    """ "Request again": filled in as before; or with one line per part it could not fill in."""
    laptop = DeviceSnapshot(
        node_id="nErinMacCNTRL",
        name="erin-mac.tail1234.ts.net",
        hostname="Erins-MacBook",
        owner=REQUESTER,
        os="macOS",
        addresses=["100.64.0.7"],
        connected_to_control=True,
    )
    index = DeviceIndex()
    index.put(laptop)
    earlier = AgainValue(
        request_id=EXAMPLE_EXTENSION_ID,  # the ended request (any other id than the new one)
        profile_id="prod",
        device_id=laptop.node_id,
        duration_seconds=3600,
        reason="Deploying the hotfix for INC-4211",
    )
    cases = {
        "request_modal_again": earlier,
        "request_modal_again_not_filled": replace(
            earlier, device_id="nGoneCNTRL", duration_seconds=86400
        ),
        "request_modal_again_profile_gone": replace(earlier, profile_id="retired"),
    }
    for name, value in cases.items():
        form = again_form(value, profiles, index, REQUESTER)
        profile_id = form.profile.id if form.profile else None
        view = request_modal(
            profiles,
            ModalMetadata(request_id=EXAMPLE_REQUEST_ID, profile_id=profile_id),
            profile=form.profile,
            approvers=candidates(profiles, "prod") if form.profile else [],
            prefill=form.prefill,
            again_of=value.request_id,
            notes=form.notes,
        )
        check(name, view_json(view))


def test_request_modal_with_many_approvers_uses_a_user_picker() -> None:
    emails = [f"approver{i}@example.com" for i in range(12)]
    wide = parse_profiles(
        {
            "profiles": [
                {
                    "id": "wide",
                    "description": "Shared tooling",
                    "attribute": "custom:toolingAccess",
                    "approvers": {"emails": emails},
                }
            ]
        },
        Path("inline"),
    )
    profile = wide.profiles[0]
    view = request_modal(
        wide,
        ModalMetadata(request_id=EXAMPLE_REQUEST_ID, profile_id="wide"),
        profile=profile,
        approvers=[ApproverCandidate(email=e) for e in emails],
    )
    document = view_json(view)
    approver = next(b for b in document["blocks"] if b.get("block_id") == "approver")
    assert approver["element"]["type"] == "users_select"
    check("request_modal_many_approvers", document)


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


def test_extend_offer_modal() -> None:
    """The request form answered with Extend: the access is active on that device already."""
    meta = ModalMetadata(
        request_id=EXAMPLE_REQUEST_ID, profile_id="prod", extension_id=EXAMPLE_EXTENSION_ID
    )
    offer = extend_offer(
        profile="Production",
        device="erin-mac",
        until=datetime(2026, 11, 30, 11, 0, tzinfo=UTC),
        request_id=EXAMPLE_REQUEST_ID,
    )
    view = extend_modal(
        meta,
        maximum=timedelta(hours=8),
        require_reason=True,
        offer=offer,
        reason="Deploying the hotfix for INC-4211",
    )
    check("extend_offer_modal", view_json(view))


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
