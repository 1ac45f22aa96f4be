"""End to end (issue 15, item 3): the request form shows who can approve, through the Slack
emulator, with the four services running.

The suite's profiles plus one with twelve approvers (`wide`); the Slack emulator's users
carry Slack's `tz` / `tz_label` / `tz_offset` as `users.info` returns them.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import pytest_asyncio
import yaml

from accessbot.harness import Harness, start_harness
from accessbot.sandbox import group_members
from services.intake.domain.approvers import local_time
from shared.contracts.events import ApprovalRequested
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId, BlockId, CallbackId
from tests.e2e.support import (
    ALICE,
    BOB,
    CAROL,
    DANA,
    PROFILES_PATH,
    TIMEOUT,
    one_event,
    submit,
    uid,
    wait_for_dm,
    wait_for_modal,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

GROUP = "S0E2EONCALL"  # tests/e2e/profiles.yaml's `oncall`, seeded by the sandbox
WIDE = [f"wide{i:02d}@example.com" for i in range(12)]
LEFT = WIDE[3]  # deactivated before anyone opens the form
ZONES = {  # users.info as Slack returns it in winter
    ALICE: ("Europe/Berlin", "Central European Time", 3600),
    BOB: ("America/Los_Angeles", "Pacific Standard Time", -28800),
    WIDE[7]: ("Asia/Kolkata", "India Standard Time", 19800),
}


def _profiles_with_wide(data: Path) -> Path:
    """The suite's profiles.yaml plus `wide` (twelve approvers, one choice)."""
    profiles = yaml.safe_load(PROFILES_PATH.read_text(encoding="utf-8"))
    profiles["profiles"].append(
        {
            "id": "wide",
            "description": "Shared tooling",
            "attribute": "custom:wideAccess",
            "max_duration": "1h",
            "approvers": {"emails": WIDE},
            "devices": "own",
            "notify_channels": ["C0E2EAUDIT1"],
        }
    )
    path = data / "profiles.yaml"
    path.write_text(yaml.safe_dump(profiles), encoding="utf-8")
    return path


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    data = tmp_path_factory.mktemp("e2e-approver-choice")
    path = _profiles_with_wide(data)
    running = await start_harness(data / "run", profiles_path=path)
    users = running.slack.workspace.users
    for email, (tz, label, offset) in ZONES.items():
        person = users[uid(email)]
        person.tz, person.tz_label, person.tz_offset = tz, label, offset
    users[uid(CAROL)].deleted = True
    users[uid(LEFT)].deleted = True
    try:
        yield running
    finally:
        await running.stop()


def _readings(email: str, before: datetime) -> set[str | None]:
    """The local times the form may show: rendered between `before` and now."""
    offset = ZONES[email][2]
    return {local_time(offset, before), local_time(offset, datetime.now(UTC))}


def _block(view: dict[str, Any], block_id: BlockId) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id.value)


async def _form_for(harness: Harness, profile_id: str) -> dict[str, Any]:
    driver = harness.slack.driver
    await driver.press_shortcut(uid(DANA), CallbackId.REQUEST_SHORTCUT)
    view = await wait_for_modal(harness, DANA, CallbackId.REQUEST_MODAL)
    await driver.select(uid(DANA), ActionId.PROFILE_SELECT, profile_id)
    return await driver.wait_for_view(uid(DANA), newer_than=view, timeout=TIMEOUT)


async def test_the_form_shows_who_can_approve_with_their_local_time(harness: Harness) -> None:
    before = datetime.now(UTC)
    view = await _form_for(harness, "prod")
    radio = _block(view, BlockId.APPROVER)["element"]
    described = {o["value"]: o.get("description", {}).get("text") for o in radio["options"]}
    shown = set(described.values())
    assert shown & {f"{t} local time · {ALICE}" for t in _readings(ALICE, before)}
    assert shown & {f"{t} local time · {BOB}" for t in _readings(BOB, before)}

    # Two approvals needed: no choice, the form names who will be asked. Carol is
    # deactivated in Slack and left out.
    await harness.slack.driver.select(uid(DANA), ActionId.PROFILE_SELECT, "quorum")
    quorum = await harness.slack.driver.wait_for_view(uid(DANA), newer_than=view, timeout=TIMEOUT)
    text = _block(quorum, BlockId.APPROVERS_SHOWN)["elements"][0]["text"]
    assert text in {
        f"*Who can approve* (local time now): <@{uid(ALICE)}> ({a}) and <@{uid(BOB)}> ({b})"
        for a in _readings(ALICE, before)
        for b in _readings(BOB, before)
    }
    assert uid(CAROL) not in text

    # Approvers from a Slack user group: its active members, resolved when chosen.
    await harness.slack.driver.select(uid(DANA), ActionId.PROFILE_SELECT, "oncall")
    oncall = await harness.slack.driver.wait_for_view(uid(DANA), newer_than=quorum, timeout=TIMEOUT)
    text = _block(oncall, BlockId.APPROVERS_SHOWN)["elements"][0]["text"]
    first, second = group_members(GROUP)
    # The sandbox's people live in different zones; each is shown on their own clock.
    offsets = [harness.slack.workspace.users[uid(e)].tz_offset for e in (first, second)]
    a, b = ({local_time(o, before), local_time(o, datetime.now(UTC))} for o in offsets)
    assert text in {
        f"*Who can approve* (local time now): <@{uid(first)}> ({x}) and <@{uid(second)}> ({y})"
        for x in a
        for y in b
    }
    assert uid(f"{GROUP.lower()}.former@example.com") not in text  # deactivated
    await harness.slack.driver.close_view(uid(DANA))


async def test_more_than_ten_approvers_are_searched_and_the_chosen_one_is_asked(
    harness: Harness,
) -> None:
    before = datetime.now(UTC)
    await _form_for(harness, "wide")
    view = harness.slack.driver.current_view(uid(DANA))
    assert view is not None
    element = _block(view, BlockId.APPROVER)["element"]
    assert element["type"] == "external_select"  # not a users_select: the whole workspace
    driver = harness.slack.driver
    everyone = await driver.type_in_external_select(uid(DANA), ActionId.APPROVER_SELECT, "")
    offered = [o["description"]["text"].rsplit(" ", 1)[-1] for o in everyone["options"]]
    # Only the eligible, and of them only the active: the deactivated one is left out.
    assert offered == [e for e in WIDE if e != LEFT]
    kolkata = await driver.type_in_external_select(uid(DANA), ActionId.APPROVER_SELECT, "wide07")
    [only] = kolkata["options"]
    assert only["description"]["text"] in {
        f"{t} local time · {WIDE[7]}" for t in _readings(WIDE[7], before)
    }
    assert (await driver.type_in_external_select(uid(DANA), ActionId.APPROVER_SELECT, "dana"))[
        "options"
    ] == []
    await driver.close_view(uid(DANA))

    rid = await submit(harness, DANA, "wide", approver_email=WIDE[7], reason="Rotate tokens")
    asked = (await one_event(harness, Subject.APPROVAL_REQUESTED, rid)).event
    assert isinstance(asked, ApprovalRequested)
    assert [p.email for p in asked.approvers] == [WIDE[7]]
    await wait_for_dm(harness, WIDE[7], rid, "asks for")
