"""End to end (issue 15, item 4) through the Slack emulator: the App Home tab.

The four services as OS processes, a real nats-server, both emulators: opening the Home
tab publishes it from what the notifier knows (the requester's pending request, the
approver's decision to make); a Home opened once follows the request after the approval
and after the expiry without being opened again; its buttons approve and open the form.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from accessbot.harness import Harness
from accessbot.scenario import press_in_dm
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId, BlockId, CallbackId
from tests.e2e.support import (
    BOB,
    DANA,
    TIMEOUT,
    eventually,
    one_event,
    own_devices,
    running_harness,
    submit,
    uid,
    wait_for_modal,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path_factory.mktemp("e2e-home")) as running:
        yield running


def item_actions(home: dict[str, Any] | None, section: BlockId, request_id: str) -> set[str]:
    """The action ids of one request's buttons in one section of a Home view."""
    if home is None:
        return set()
    return {
        element["action_id"]
        for block in home["blocks"]
        if block["block_id"] == f"{section.value}:{request_id}:actions"
        for element in block["elements"]
    }


async def home_shows(
    harness: Harness, email: str, section: BlockId, request_id: str, actions: set[str]
) -> dict[str, Any]:
    """Wait until `email`'s Home shows the request in `section` with these buttons."""

    async def shown() -> dict[str, Any] | None:
        home = harness.slack.home(uid(email))
        return home if item_actions(home, section, request_id) == actions else None

    return await eventually(shown, f"{email}'s Home: {request_id} in {section.value}")


async def test_opening_the_home_shows_my_requests_and_my_decisions(harness: Harness) -> None:
    request_id = await submit(harness, DANA, "prod", device_id=own_devices(harness, DANA)[0])
    await one_event(harness, Subject.APPROVAL_REQUESTED, request_id)
    assert await harness.slack.driver.open_home(uid(DANA)) is None
    await home_shows(harness, DANA, BlockId.HOME_PENDING, request_id, {ActionId.CANCEL.value})
    assert await harness.slack.driver.open_home(uid(BOB)) is None
    bob = await home_shows(
        harness,
        BOB,
        BlockId.HOME_DECIDE,
        request_id,
        {ActionId.APPROVE.value, ActionId.DENY.value},
    )
    top = bob["blocks"][0]
    assert top["accessory"]["action_id"] == ActionId.HOME_REQUEST.value


async def test_buttons_in_the_home_approve_and_open_the_form(harness: Harness) -> None:
    # the first test keeps a prod request pending on Dana's first device
    request_id = await submit(harness, DANA, "prod", device_id=own_devices(harness, DANA)[1])
    assert await harness.slack.driver.open_home(uid(BOB)) is None
    decide = {ActionId.APPROVE.value, ActionId.DENY.value}
    await home_shows(harness, BOB, BlockId.HOME_DECIDE, request_id, decide)
    pressed = await harness.slack.driver.press_home_button(
        uid(BOB),
        ActionId.APPROVE.value,
        block_id=f"{BlockId.HOME_DECIDE.value}:{request_id}:actions",
    )
    assert pressed is None
    await one_event(harness, Subject.REQUEST_APPROVED, request_id)
    await home_shows(harness, BOB, BlockId.HOME_DECIDE, request_id, set())
    assert (
        await harness.slack.driver.press_home_button(uid(BOB), ActionId.HOME_REQUEST.value) is None
    )
    await wait_for_modal(harness, BOB, CallbackId.REQUEST_MODAL)


async def test_an_open_home_follows_the_approval_and_the_expiry(harness: Harness) -> None:
    assert await harness.slack.driver.open_home(uid(DANA)) is None
    assert await harness.slack.driver.open_home(uid(BOB)) is None
    request_id = await submit(harness, DANA, "short", reason="Quick look", duration_seconds=4)
    await home_shows(
        harness,
        BOB,
        BlockId.HOME_DECIDE,
        request_id,
        {ActionId.APPROVE.value, ActionId.DENY.value},
    )
    await press_in_dm(harness.slack, uid(BOB), ActionId.APPROVE, request_id, timeout=TIMEOUT)
    await home_shows(
        harness,
        DANA,
        BlockId.HOME_ACTIVE,
        request_id,
        {ActionId.EXTEND.value, ActionId.REVOKE.value},
    )
    await home_shows(harness, BOB, BlockId.HOME_DECIDE, request_id, set())  # decided
    await one_event(harness, Subject.GRANT_EXPIRED, request_id)
    dana = await home_shows(
        harness, DANA, BlockId.HOME_HISTORY, request_id, {ActionId.REQUEST_AGAIN.value}
    )
    assert item_actions(dana, BlockId.HOME_ACTIVE, request_id) == set()
