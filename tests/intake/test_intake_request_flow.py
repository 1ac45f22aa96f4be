"""The request form end to end, over Socket Mode and HTTP: real NATS, the Slack emulator."""

from __future__ import annotations

from services.intake.domain.approvers import approver_value
from shared.contracts.events import Person, SubmitRequest
from shared.contracts.subjects import Bucket, Subject
from shared.ids import is_valid_id
from shared.profiles import load_profiles
from shared.slack_ids import ANY_APPROVER, ActionId, BlockId
from tests.conftest import PROFILES_PATH
from tests.intake.conftest import (
    ALICE,
    DEVICES,
    ERIN,
    Intake,
    block,
    block_ids,
    eventually,
    metadata,
    option_values,
    published,
    put_devices,
    wait_published,
)


async def test_shortcut_opens_the_form_and_a_profile_shows_its_fields(intake: Intake) -> None:
    view = await intake.open_request_form(ALICE)
    assert view["callback_id"] == "request_access_modal"
    assert block_ids(view) == ["profile"]
    profile_select = block(view, BlockId.PROFILE)["element"]
    assert option_values(profile_select) == ["prod", "prod-db", "staging", "break-glass"]
    request_id = metadata(view).request_id
    assert is_valid_id(request_id)

    prod = await intake.choose_profile(ALICE, "prod", view)
    assert prod["id"] == view["id"]
    assert prod["hash"] != view["hash"]
    assert block_ids(prod) == ["profile", "device", "duration", "approver", "reason"]
    assert metadata(prod).request_id == request_id  # born with the modal, kept through updates
    assert metadata(prod).profile_id == "prod"
    durations = option_values(block(prod, BlockId.DURATION)["element"])
    assert durations[-1] == str(8 * 3600)  # presets up to prod's 8h
    approvers = block(prod, BlockId.APPROVER)["element"]
    assert approvers["type"] == "radio_buttons"
    # Alice approves prod but may not approve herself there: she is left out.
    assert option_values(approvers) == [ANY_APPROVER, approver_value("bob@example.com")]
    assert block(prod, BlockId.DEVICE)["element"]["min_query_length"] == 0

    staging = await intake.choose_profile(ALICE, "staging", prod)
    staging_approvers = option_values(block(staging, BlockId.APPROVER)["element"])
    assert approver_value("alice@example.com") in staging_approvers  # staging allows self-approval
    assert block(staging, BlockId.REASON)["optional"] is True

    quorum = await intake.choose_profile(ALICE, "prod-db", staging)
    assert "approver" not in block_ids(quorum)  # two approvals: everyone is asked
    assert option_values(block(quorum, BlockId.DURATION)["element"])[-1] == str(4 * 3600)

    assert all(a.latency is not None and a.latency < 1.0 for a in intake.emu.acks)
    assert await published(intake.js) == []


async def test_device_picker_lists_own_devices_and_all_where_allowed(intake: Intake) -> None:
    driver = intake.emu.driver
    await intake.open_request_form(ERIN, "prod")
    own_only = await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "")
    groups = own_only["option_groups"]
    assert [g["label"]["text"] for g in groups] == ["Your devices"]
    # connected first; the tagged server is not Erin's own device
    assert [o["value"] for o in groups[0]["options"]] == ["nErinLaptopCNTRL", "nErinPhoneCNTRL"]

    view = driver.current_view(ERIN.id)
    assert view is not None
    await intake.choose_profile(ERIN, "staging", view)
    anything = await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "100.64")
    labels = [g["label"]["text"] for g in anything["option_groups"]]
    assert labels == ["Your devices", "All devices"]
    others = [o["value"] for o in anything["option_groups"][1]["options"]]
    assert others == ["nAliceLaptopCNTRL", "nBobPcCNTRL", "nDbServerCNTRL"]


async def test_a_valid_submission_publishes_one_request(intake: Intake) -> None:
    driver = intake.emu.driver
    view = await intake.open_request_form(ERIN, "prod")
    await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "laptop")
    ack = await driver.submit_view(
        ERIN.id,
        values={
            ActionId.DEVICE_SELECT.value: "nErinLaptopCNTRL",
            ActionId.DURATION_SELECT.value: "3600",
            ActionId.APPROVER_RADIO.value: approver_value("bob@example.com"),
            ActionId.REASON_INPUT.value: "  Investigating INC-4211 ",
        },
    )
    assert ack is None  # the modal closes
    assert driver.current_view(ERIN.id) is None
    [envelope] = await wait_published(intake.js, Subject.REQUEST_SUBMITTED.value)
    event = envelope.event
    assert isinstance(event, SubmitRequest)
    assert event.request_id == metadata(view).request_id
    assert event.requester == Person(
        email="erin@example.com", slack_user_id=ERIN.id, name="Erin Requester"
    )
    assert (event.profile_id, event.device_id, event.duration_seconds) == (
        "prod",
        "nErinLaptopCNTRL",
        3600,
    )
    assert event.approver_email == "bob@example.com"
    # the approvers the form showed travel named (from intake's cache: no Slack call)
    named = {p.email: p for p in event.approver_people}
    assert named["bob@example.com"].slack_user_id is not None
    assert named["bob@example.com"].name
    assert event.reason == "Investigating INC-4211"
    assert envelope.meta.source == "accessbot/intake"
    assert len(await published(intake.js)) == 1


async def test_invalid_submissions_get_field_errors_and_publish_nothing(intake: Intake) -> None:
    driver = intake.emu.driver
    # Staging allows any device, a day, and self-approval; prod allows none of it. Slack
    # keeps what was entered when the form switches to prod: validation must catch it all.
    staging = await intake.open_request_form(ALICE, "staging")
    await driver.type_in_external_select(ALICE.id, ActionId.DEVICE_SELECT.value, "bob")
    await driver.select(ALICE.id, ActionId.DEVICE_SELECT.value, "nBobPcCNTRL")
    await driver.select(ALICE.id, ActionId.DURATION_SELECT.value, "86400")
    await driver.select(
        ALICE.id, ActionId.APPROVER_RADIO.value, approver_value("alice@example.com")
    )
    await intake.choose_profile(ALICE, "prod", staging)
    ack = await driver.submit_view(ALICE.id, values={ActionId.REASON_INPUT.value: "   "})
    assert ack is not None
    assert ack["response_action"] == "errors"
    errors = ack["errors"]
    assert set(errors) == {"device", "duration", "approver", "reason"}
    assert "your own" in errors["device"]
    assert errors["duration"] == "1 day is longer than Production allows (8 hours)."
    assert errors["approver"] == "You cannot approve your own request for Production."
    assert errors["reason"] == "Say why you need Production."

    # An approver who may approve staging but not prod.
    view = driver.current_view(ALICE.id)
    assert view is not None
    staging = await intake.choose_profile(ALICE, "staging", view)
    await driver.select(ALICE.id, ActionId.APPROVER_RADIO.value, approver_value("dave@example.com"))
    await intake.choose_profile(ALICE, "prod", staging)
    await driver.type_in_external_select(ALICE.id, ActionId.DEVICE_SELECT.value, "")
    ack = await driver.submit_view(
        ALICE.id,
        values={
            ActionId.DEVICE_SELECT.value: "nAliceLaptopCNTRL",
            ActionId.DURATION_SELECT.value: "3600",
            ActionId.REASON_INPUT.value: "deploy",
        },
    )
    assert ack == {
        "response_action": "errors",
        "errors": {"approver": "dave@example.com is not an approver for Production."},
    }

    # A device that disappears from the inventory before the form is submitted.
    kv = await intake.js.key_value(Bucket.DEVICES.value)
    await kv.delete("nAliceLaptopCNTRL")

    async def gone() -> bool:
        answer = await driver.type_in_external_select(ALICE.id, ActionId.DEVICE_SELECT.value, "")
        return not answer.get("option_groups")

    await eventually(gone)
    ack = await driver.submit_view(
        ALICE.id, values={ActionId.APPROVER_RADIO.value: approver_value("bob@example.com")}
    )
    assert ack is not None
    assert list(ack["errors"]) == ["device"]
    assert "not known" in ack["errors"]["device"]

    assert await published(intake.js) == []
    assert driver.current_view(ALICE.id) is not None  # still open for a fix


async def test_a_device_added_to_kv_appears_without_a_restart(intake: Intake) -> None:
    driver = intake.emu.driver
    await intake.open_request_form(ERIN, "prod")
    new = DEVICES[0].model_copy(
        update={"node_id": "nErinNewCNTRL", "name": "erin-new.tail1234.ts.net", "hostname": "new"}
    )
    await put_devices(intake.js, [new])

    async def listed() -> bool:
        answer = await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "new")
        groups = answer.get("option_groups") or []
        return any(o["value"] == "nErinNewCNTRL" for g in groups for o in g["options"])

    assert await eventually(listed)


async def test_a_profile_removed_while_the_form_was_open(intake: Intake) -> None:
    driver = intake.emu.driver
    await intake.open_request_form(ERIN, "prod")
    await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "")
    profiles = load_profiles(PROFILES_PATH)
    without_prod = profiles.model_copy(
        update={"profiles": [p for p in profiles.profiles if p.id != "prod"]}
    )
    await intake.restart(profiles=without_prod)  # profiles.yaml changed; intake restarted
    ack = await driver.submit_view(
        ERIN.id,
        values={
            ActionId.DEVICE_SELECT.value: "nErinLaptopCNTRL",
            ActionId.DURATION_SELECT.value: "3600",
            ActionId.REASON_INPUT.value: "INC-1",
        },
    )
    assert ack == {
        "response_action": "errors",
        "errors": {"profile": "That access profile does not exist (any more)."},
    }
    assert await published(intake.js) == []
