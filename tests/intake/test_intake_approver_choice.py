"""Who can approve, as the request form shows it (issue 15, item 3): real NATS, the Slack
emulator (users.info / users.lookupByEmail with Slack's tz fields), Socket Mode and HTTP.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from emulators.slack import User
from services.intake.domain.approvers import approver_value, local_time
from shared.contracts.events import SubmitRequest
from shared.contracts.subjects import Subject
from shared.profiles import ProfilesConfig, parse_profiles
from shared.slack_ids import ActionId, BlockId
from tests.conftest import PROFILES_PATH
from tests.intake.conftest import (
    ALICE,
    BOB,
    CAROL,
    DAVE,
    ERIN,
    SECOPS,
    Intake,
    block,
    published,
    wait_published,
)

PRIYA = User(
    id="U0PRIYA",
    name="priya",
    real_name="Priya Oncall",
    email="priya@example.com",
    tz="Asia/Kolkata",
    tz_label="India Standard Time",
    tz_offset=19800,
)
GONE = User(id="U0GONE", name="gone", real_name="Gone Away", email="gone@example.com", deleted=True)


def _profiles(
    emails: list[str], *, approvals: int = 1, groups: list[str] | None = None
) -> ProfilesConfig:
    return parse_profiles(
        {
            "profiles": [
                {
                    "id": "tooling",
                    "description": "Shared tooling",
                    "attribute": "custom:toolingAccess",
                    "approvers": {"emails": emails, "slack_groups": groups or []},
                    "approvals_required": approvals,
                    "devices": "own",
                }
            ]
        },
        PROFILES_PATH,
    )


def _clock_readings(offset: int, before: datetime) -> set[str | None]:
    """What the form may show for `offset`: rendered some moment between `before` and now."""
    return {local_time(offset, before), local_time(offset, datetime.now(UTC))}


def _labels(answer: dict[str, Any]) -> list[str]:
    return [o["text"]["text"] for o in answer["options"]]


async def test_radio_buttons_show_local_times_and_leave_deactivated_approvers_out(
    intake: Intake,
) -> None:
    intake.emu.workspace.add_user(PRIYA)
    intake.emu.workspace.add_user(GONE)
    await intake.restart(profiles=_profiles([PRIYA.email, GONE.email, BOB.email]))
    before = datetime.now(UTC)
    view = await intake.open_request_form(ERIN, "tooling")
    radio = block(view, BlockId.APPROVER)["element"]
    assert radio["type"] == "radio_buttons"
    options = {o["text"]["text"]: o.get("description", {}).get("text") for o in radio["options"]}
    # Gone Away is deactivated: Slack's users.lookupByEmail does not find them.
    assert list(options) == ["Any eligible approver", "Priya Oncall", "Bob Builder"]
    readings = _clock_readings(19800, before)
    assert options["Priya Oncall"] in {f"{r} local time · priya@example.com" for r in readings}
    assert options["Bob Builder"] in {
        f"{r} local time · bob@example.com" for r in _clock_readings(BOB.tz_offset, before)
    }


async def test_a_quorum_profile_names_its_approvers_with_local_times(intake: Intake) -> None:
    intake.emu.workspace.add_user(PRIYA)
    intake.emu.workspace.add_user(GONE)
    await intake.restart(
        profiles=_profiles([PRIYA.email, GONE.email, ALICE.email, ERIN.email], approvals=2)
    )
    before = datetime.now(UTC)
    view = await intake.open_request_form(ERIN, "tooling")
    assert BlockId.APPROVER.value not in [b.get("block_id") for b in view["blocks"]]
    text = block(view, BlockId.APPROVERS_SHOWN)["elements"][0]["text"]
    # The requester (self-approval not allowed) and the deactivated approver are left out.
    assert text in {
        f"*Who can approve* (local time now): <@{PRIYA.id}> ({p}) and <@{ALICE.id}> ({a})"
        for p in _clock_readings(PRIYA.tz_offset, before)
        for a in _clock_readings(ALICE.tz_offset, before)
    }


async def test_many_approvers_are_searched_among_the_eligible_and_checked_on_submit(
    intake: Intake,
) -> None:
    intake.emu.workspace.add_user(PRIYA)
    intake.emu.workspace.add_user(GONE)
    emails = [u.email for u in (ALICE, BOB, CAROL, DAVE, SECOPS, PRIYA, GONE)]
    emails += [f"approver{i}@example.com" for i in range(5)]  # nobody in Slack has these
    await intake.restart(profiles=_profiles(emails))
    driver = intake.emu.driver
    before = datetime.now(UTC)
    view = await intake.open_request_form(ERIN, "tooling")
    element = block(view, BlockId.APPROVER)["element"]
    assert element["type"] == "external_select"  # never a users_select (the whole workspace)
    assert element["action_id"] == ActionId.APPROVER_SELECT.value

    everyone = await driver.type_in_external_select(ERIN.id, ActionId.APPROVER_SELECT.value, "")
    # Only active people among the eligible; the seeded workspace's others are never offered.
    assert _labels(everyone) == [
        "Alice Example",
        "Bob Builder",
        "Carol Approver",
        "Dave Ops",
        "Sec Ops",
        "Priya Oncall",
    ]
    priya = everyone["options"][-1]
    assert priya["value"] == approver_value(PRIYA.email)
    assert priya["description"]["text"] in {
        f"{r} local time · priya@example.com" for r in _clock_readings(19800, before)
    }
    # The requester may not approve their own request: not offered.
    own = await driver.type_in_external_select(ERIN.id, ActionId.APPROVER_SELECT.value, "erin")
    assert _labels(own) == []
    carol = await driver.type_in_external_select(ERIN.id, ActionId.APPROVER_SELECT.value, "carol")
    assert _labels(carol) == ["Carol Approver"]
    await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "")
    filled = {
        ActionId.DEVICE_SELECT.value: "nErinLaptopCNTRL",
        ActionId.DURATION_SELECT.value: "3600",
        ActionId.REASON_INPUT.value: "rotate keys",
        ActionId.APPROVER_SELECT.value: approver_value(CAROL.email),
    }
    ack = await driver.submit_view(ERIN.id, values=filled)
    assert ack is None
    [submitted] = await wait_published(intake.js, Subject.REQUEST_SUBMITTED.value)
    assert isinstance(submitted.event, SubmitRequest)
    assert submitted.event.approver_email == "carol@example.com"
    assert await intake.service.ready_checks["slack"]()
    assert await intake.service.ready_checks["devices"]()


async def test_the_search_and_the_submission_recheck_eligibility(intake: Intake) -> None:
    emails = [u.email for u in (ALICE, BOB, CAROL, DAVE, SECOPS)]
    emails += [f"approver{i}@example.com" for i in range(6)]
    await intake.restart(profiles=_profiles(emails))
    driver = intake.emu.driver
    await intake.open_request_form(ERIN, "tooling")
    offered = await driver.type_in_external_select(ERIN.id, ActionId.APPROVER_SELECT.value, "car")
    assert _labels(offered) == ["Carol Approver"]
    await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "")
    await driver.select(ERIN.id, ActionId.APPROVER_SELECT.value, approver_value(CAROL.email))

    # profiles.yaml changes while the form is open: Carol approves no more.
    without_carol = [e for e in emails if e != CAROL.email]
    await intake.restart(profiles=_profiles(without_carol))
    again = await driver.type_in_external_select(ERIN.id, ActionId.APPROVER_SELECT.value, "car")
    assert _labels(again) == []
    ack = await driver.submit_view(
        ERIN.id,
        values={
            ActionId.DEVICE_SELECT.value: "nErinLaptopCNTRL",
            ActionId.DURATION_SELECT.value: "3600",
            ActionId.REASON_INPUT.value: "rotate keys",
        },
    )
    assert ack == {
        "response_action": "errors",
        "errors": {"approver": "That approver is not offered any more; choose again."},
    }
    assert await published(intake.js) == []


async def test_a_group_profile_names_the_groups_active_members(intake: Intake) -> None:
    intake.emu.workspace.add_user(PRIYA)
    intake.emu.workspace.add_user(GONE)
    intake.emu.workspace.add_usergroup(
        "S0ONCALL1", "oncall", [PRIYA.id, GONE.id, ALICE.id, ERIN.id]
    )
    await intake.restart(profiles=_profiles([BOB.email], groups=["S0ONCALL1"]))
    before = datetime.now(UTC)
    view = await intake.open_request_form(ERIN, "tooling")
    text = block(view, BlockId.APPROVERS_SHOWN)["elements"][0]["text"]
    # Listed emails first, then the group's active members; never the requester.
    assert text in {
        f"*Who can approve* (local time now): <@{BOB.id}> ({b}), <@{PRIYA.id}> ({p}) "
        f"and <@{ALICE.id}> ({a})"
        for b in _clock_readings(BOB.tz_offset, before)
        for p in _clock_readings(PRIYA.tz_offset, before)
        for a in _clock_readings(ALICE.tz_offset, before)
    }
    await driver_close(intake)

    # Slack refuses the group lookup (say the scope was removed): the form still opens,
    # names who it knows and says the group could not be read.
    await intake.restart(profiles=_profiles([BOB.email], groups=["S0ONCALL1"]))
    intake.emu.fail_next("usergroups.users.list", "missing_scope")
    view = await intake.open_request_form(ERIN, "tooling")
    text = block(view, BlockId.APPROVERS_SHOWN)["elements"][0]["text"]
    assert text.startswith(f"*Who can approve* (local time now): <@{BOB.id}> (")
    assert text.endswith(
        "\nThe members of <!subteam^S0ONCALL1> could not be read from Slack just now."
    )
    assert PRIYA.id not in text


async def driver_close(intake: Intake) -> None:
    await intake.emu.driver.close_view(ERIN.id)
