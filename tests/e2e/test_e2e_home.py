"""End to end (issue 15, item 4) through the Slack emulator: the App Home tab.

The four services as OS processes, a real nats-server, both emulators: opening the Home
tab publishes it from what the notifier knows (the requester's pending request, the
approver's decision to make).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio

from accessbot.harness import Harness
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId, BlockId
from tests.e2e.support import (
    BOB,
    DANA,
    eventually,
    one_event,
    running_harness,
    submit,
    uid,
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
    request_id = await submit(harness, DANA, "prod")
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
