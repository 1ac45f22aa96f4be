"""Buttons on the notifier's messages publish the right command with the clicker's identity."""

from __future__ import annotations

from shared.contracts.events import (
    EXAMPLE_EXTENSION_ID,
    CancelRequest,
    DecideRequest,
    Decision,
    ExtendGrant,
    Person,
    RevokeGrant,
)
from shared.contracts.subjects import Subject
from shared.ids import is_valid_id, new_id
from shared.slack_ids import ActionId
from tests.intake.conftest import (
    APPROVALS,
    BOB,
    ERIN,
    SECOPS,
    Intake,
    eventually,
    metadata,
    published,
    wait_published,
)

BOB_PERSON = Person(email="bob@example.com", slack_user_id=BOB.id, name="Bob Builder")
ERIN_PERSON = Person(email="erin@example.com", slack_user_id=ERIN.id, name="Erin Requester")


async def test_approve_and_cancel_publish_with_the_clickers_identity(intake: Intake) -> None:
    request_id = new_id()
    ts = await intake.post_buttons(request_id)
    driver = intake.emu.driver
    assert await driver.press_button(BOB.id, APPROVALS.id, ts, ActionId.APPROVE.value) is None
    [approved] = await wait_published(intake.js, Subject.DECISION_SUBMITTED.value)
    assert approved.event == DecideRequest(
        request_id=request_id, decider=BOB_PERSON, decision=Decision.APPROVE
    )
    assert approved.meta.source == "accessbot/intake"

    await driver.press_button(ERIN.id, APPROVALS.id, ts, ActionId.CANCEL.value)
    [cancelled] = await wait_published(intake.js, Subject.CANCEL_REQUESTED.value)
    assert cancelled.event == CancelRequest(request_id=request_id, actor=ERIN_PERSON)


async def test_extension_approval_carries_the_extension_id(intake: Intake) -> None:
    request_id = new_id()
    ts = await intake.post_buttons(request_id, EXAMPLE_EXTENSION_ID)
    await intake.emu.driver.press_button(BOB.id, APPROVALS.id, ts, ActionId.APPROVE.value)
    [approved] = await wait_published(intake.js, Subject.DECISION_SUBMITTED.value)
    assert isinstance(approved.event, DecideRequest)
    assert approved.event.extension_id == EXAMPLE_EXTENSION_ID


async def test_deny_asks_for_a_reason_then_publishes(intake: Intake) -> None:
    request_id = new_id()
    ts = await intake.post_buttons(request_id, EXAMPLE_EXTENSION_ID)
    driver = intake.emu.driver
    await driver.press_button(BOB.id, APPROVALS.id, ts, ActionId.DENY.value)
    view = await driver.wait_for_view(BOB.id, callback_id="deny_reason_modal")
    assert metadata(view).request_id == request_id
    assert await published(intake.js) == []  # nothing until the modal is submitted
    ack = await driver.submit_view(BOB.id, values={ActionId.DENY_REASON_INPUT.value: "not now"})
    assert ack is None
    [denied] = await wait_published(intake.js, Subject.DECISION_SUBMITTED.value)
    assert denied.event == DecideRequest(
        request_id=request_id,
        decider=BOB_PERSON,
        decision=Decision.DENY,
        reason="not now",
        extension_id=EXAMPLE_EXTENSION_ID,
    )


async def test_revoke_confirms_with_an_optional_reason(intake: Intake) -> None:
    request_id = new_id()
    ts = await intake.post_buttons(request_id)
    driver = intake.emu.driver
    await driver.press_button(SECOPS.id, APPROVALS.id, ts, ActionId.REVOKE.value)
    await driver.wait_for_view(SECOPS.id, callback_id="revoke_reason_modal")
    assert await driver.submit_view(SECOPS.id) is None  # no reason given
    [revoked] = await wait_published(intake.js, Subject.REVOKE_REQUESTED.value)
    assert revoked.event == RevokeGrant(
        request_id=request_id,
        actor=Person(email="secops@example.com", slack_user_id=SECOPS.id, name="Sec Ops"),
    )


async def test_extend_asks_how_long_and_why_then_publishes_a_new_extension(
    intake: Intake,
) -> None:
    request_id = new_id()
    ts = await intake.post_buttons(request_id)
    driver = intake.emu.driver
    await driver.press_button(ERIN.id, APPROVALS.id, ts, ActionId.EXTEND.value)
    view = await driver.wait_for_view(ERIN.id, callback_id="extend_modal")
    extension_id = metadata(view).extension_id
    assert extension_id is not None
    assert is_valid_id(extension_id)
    ack = await driver.submit_view(
        ERIN.id,
        values={
            ActionId.EXTEND_DURATION_SELECT.value: "3600",
            ActionId.EXTEND_REASON_INPUT.value: "  ",  # Slack only refuses an empty field
        },
    )
    assert ack == {
        "response_action": "errors",
        "errors": {"extend_reason": "Say why you need more time."},
    }
    ack = await driver.submit_view(
        ERIN.id, values={ActionId.EXTEND_REASON_INPUT.value: "migration overran"}
    )
    assert ack is None
    [extended] = await wait_published(intake.js, Subject.EXTEND_SUBMITTED.value)
    assert extended.event == ExtendGrant(
        request_id=request_id,
        extension_id=extension_id,
        actor=ERIN_PERSON,
        additional_seconds=3600,
        reason="migration overran",
    )


async def test_a_clicker_without_a_visible_email_is_told_and_nothing_is_published(
    intake: Intake,
) -> None:
    ts = await intake.post_buttons(new_id())
    await intake.emu.driver.press_button("U0GHOST", APPROVALS.id, ts, ActionId.APPROVE.value)

    async def told() -> list[object]:
        return list(intake.emu.ephemerals("U0GHOST"))

    [note] = await eventually(told)
    assert "email" in note.text  # type: ignore[attr-defined]
    assert await published(intake.js) == []


async def test_a_button_value_that_is_not_ours_is_acked_and_ignored(intake: Intake) -> None:
    ts = await intake.post_buttons(new_id())
    ack = await intake.emu.driver.press_button(
        BOB.id, APPROVALS.id, ts, ActionId.APPROVE.value, value="garbage"
    )
    assert ack is None
    assert await published(intake.js) == []


async def test_identity_is_cached_and_a_rate_limited_lookup_is_retried(intake: Intake) -> None:
    driver = intake.emu.driver
    intake.emu.rate_limit_next("users.info", count=1, retry_after=1)
    first, second = new_id(), new_id()
    for request_id in (first, second):
        ts = await intake.post_buttons(request_id)
        await driver.press_button(BOB.id, APPROVALS.id, ts, ActionId.APPROVE.value)
    events = await wait_published(intake.js, Subject.DECISION_SUBMITTED.value, count=2)
    assert sorted(e.event.request_id for e in events) == sorted([first, second])
    lookups = intake.emu.calls("users.info")
    assert [c.status for c in lookups] == [429, 200]  # waited out Retry-After, then cached
