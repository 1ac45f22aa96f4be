"""More profiles than a list holds, long approver emails and the longest reason, through
the real intake and the Slack emulator: the form searches profiles, every option is
within Slack's limits, and the submitted event carries the reason whole."""

from __future__ import annotations

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.slack import SlackEmulator, User
from services.intake.domain.approvers import approver_value
from shared.contracts.events import SubmitRequest
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId, BlockId
from shared.slack_limits import MAX_REASON
from tests.intake.conftest import (
    DEVICES,
    ERIN,
    block,
    put_devices,
    start_intake,
    wait_published,
)
from tests.intake.test_intake_limits import many_profiles

LONG_EMAIL = "long." + "x" * 200 + "@example.com"  # over the 150 an option value holds
SPECIAL = ("&<>" * MAX_REASON)[:MAX_REASON]


async def test_101_profiles_are_searched_and_a_request_goes_through(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: SlackEmulator
) -> None:
    await put_devices(admin_js, DEVICES)
    # An approver the form offers is an active Slack user (deactivated ones are left out).
    emulator.workspace.add_user(User(id="U0LONG", name="long", email=LONG_EMAIL))
    profiles = many_profiles(101, [LONG_EMAIL, "bob@example.com"])
    intake = await start_intake(nats_server, emulator, admin_js, "socket")
    await intake.restart(profiles)
    try:
        driver = emulator.driver
        view = await intake.open_request_form(ERIN)
        assert block(view, BlockId.PROFILE)["element"]["type"] == "external_select"
        listed = await driver.type_in_external_select(ERIN.id, ActionId.PROFILE_SELECT.value, "")
        assert len(listed["options"]) == 100
        found = await driver.type_in_external_select(
            ERIN.id, ActionId.PROFILE_SELECT.value, "profile 100"
        )
        assert [o["value"] for o in found["options"]] == ["p100"]
        chosen = await intake.choose_profile(ERIN, "p100", view)
        radio = block(chosen, BlockId.APPROVER)["element"]
        assert all(len(o["value"]) <= 150 for o in radio["options"])

        await driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "laptop")
        ack = await driver.submit_view(
            ERIN.id,
            values={
                ActionId.DEVICE_SELECT.value: "nErinLaptopCNTRL",
                ActionId.DURATION_SELECT.value: "3600",
                ActionId.APPROVER_RADIO.value: approver_value(LONG_EMAIL),
                ActionId.REASON_INPUT.value: SPECIAL,
            },
        )
        assert ack is None, ack  # the modal closes
        [envelope] = await wait_published(intake.js, Subject.REQUEST_SUBMITTED.value)
        event = envelope.event
        assert isinstance(event, SubmitRequest)
        assert event.profile_id == "p100"
        assert event.approver_email == LONG_EMAIL
        assert event.reason == SPECIAL, "the event stream keeps the reason whole"
    finally:
        await intake.service.stop()
    assert not emulator.violations, [v.as_dict() for v in emulator.violations]
