"""End to end (issue 15, item 5): "Request again" through the Slack emulator.

The four services as OS processes, a real nats-server, both emulators: an ended request's
DM carries "Request again"; it opens the form filled in as before, and the submission is
a new request that goes through approvals like any other.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from accessbot.harness import Harness
from accessbot.scenario import press_in_dm
from shared.contracts.events import ApprovalRequested, SubmitRequest
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId, BlockId, CallbackId
from tests.e2e.support import (
    BOB,
    DANA,
    TIMEOUT,
    action_ids,
    eventually,
    one_event,
    running_harness,
    submit,
    uid,
    wait_for_dm,
    wait_for_modal,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path_factory.mktemp("e2e-again")) as running:
        yield running


async def test_an_expired_request_is_asked_again_filled_in_as_before(harness: Harness) -> None:
    first = await submit(harness, DANA, "pending", reason="Check the queue")
    submitted = (await one_event(harness, Subject.REQUEST_SUBMITTED, first)).event
    assert isinstance(submitted, SubmitRequest)
    await one_event(harness, Subject.REQUEST_EXPIRED, first)  # nobody answers within 3 s

    told = await wait_for_dm(harness, DANA, first, r"Expired.*Request again")
    assert action_ids(told) == {ActionId.REQUEST_AGAIN.value}
    known = {e.meta.id for e in await harness.events(Subject.REQUEST_SUBMITTED.value)}
    await press_in_dm(harness.slack, uid(DANA), ActionId.REQUEST_AGAIN, first, timeout=TIMEOUT)
    view = await wait_for_modal(harness, DANA, CallbackId.REQUEST_MODAL)
    note = next(b for b in view["blocks"] if b.get("block_id") == BlockId.AGAIN_NOTE.value)
    assert first in note["elements"][0]["text"]
    assert await harness.slack.driver.submit_view(uid(DANA)) is None  # as filled in

    async def again() -> SubmitRequest | None:
        for envelope in await harness.events(Subject.REQUEST_SUBMITTED.value):
            if envelope.meta.id not in known and isinstance(envelope.event, SubmitRequest):
                return envelope.event
        return None

    second = await eventually(again, "the second submission")
    assert second.request_id != first
    assert (second.profile_id, second.device_id, second.duration_seconds, second.reason) == (
        submitted.profile_id,
        submitted.device_id,
        submitted.duration_seconds,
        submitted.reason,
    )
    asked = (await one_event(harness, Subject.APPROVAL_REQUESTED, second.request_id)).event
    assert isinstance(asked, ApprovalRequested)
    await wait_for_dm(harness, BOB, second.request_id, "asks for")
