"""End to end (issue 15, items 5 and 6) through the Slack emulator: "Request again", and
one device, one profile, one grant.

The four services as OS processes, a real nats-server, both emulators: an ended request's
DM carries "Request again"; it opens the form filled in as before, and the submission is
a new request that goes through approvals like any other. Asking for a profile already
active on that device turns the form into the Extend form of the active grant.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from accessbot.harness import Harness
from accessbot.scenario import file_request, press_in_dm
from shared.contracts.events import (
    ApprovalRequested,
    ExtendGrant,
    GrantApplied,
    GrantExtended,
    SubmitRequest,
)
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


async def test_asking_again_for_an_active_grant_offers_its_extension(harness: Harness) -> None:
    rid = await submit(harness, DANA, "prod", reason="Deploying hotfix", duration_seconds=3600)
    await one_event(harness, Subject.APPROVAL_REQUESTED, rid)
    await press_in_dm(harness.slack, uid(BOB), ActionId.APPROVE, rid, timeout=TIMEOUT)
    grant = (await one_event(harness, Subject.GRANT_APPLIED, rid)).event
    assert isinstance(grant, GrantApplied)
    await wait_for_dm(harness, DANA, rid, r"Access granted")

    # Dana asks for prod on the same device again: the form becomes the Extend form.
    known = len(await harness.events(Subject.REQUEST_SUBMITTED.value))
    ack = await file_request(
        harness.slack,
        uid(DANA),
        profile_id="prod",
        reason="The hotfix needs longer",
        duration_seconds=3600,
        device_query=grant.device_id,
    )
    assert ack is not None
    assert ack["response_action"] == "update"
    view = await wait_for_modal(harness, DANA, CallbackId.EXTEND_MODAL)
    offer = next(b for b in view["blocks"] if b.get("block_id") == BlockId.EXTEND_OFFER.value)
    assert rid in offer["elements"][0]["text"]
    assert (
        await harness.slack.driver.submit_view(
            uid(DANA), values={ActionId.EXTEND_DURATION_SELECT.value: "3600"}
        )
        is None
    )

    extend = (await one_event(harness, Subject.EXTEND_SUBMITTED, rid)).event
    assert isinstance(extend, ExtendGrant)
    assert extend.reason == "The hotfix needs longer"  # what the form said is kept
    asked = await eventually(
        lambda: _extension_asked(harness, rid, extend.extension_id), "the extension asked for"
    )
    assert asked.additional_seconds == 3600
    await press_in_dm(harness.slack, uid(BOB), ActionId.APPROVE, rid, timeout=TIMEOUT)
    extended = (await one_event(harness, Subject.GRANT_EXTENDED, rid)).event
    assert isinstance(extended, GrantExtended)
    assert extended.expires_at > grant.expires_at
    assert len(await harness.events(Subject.REQUEST_SUBMITTED.value)) == known  # no second


async def _extension_asked(
    harness: Harness, request_id: str, extension_id: str
) -> ApprovalRequested | None:
    for envelope in await harness.events(Subject.APPROVAL_REQUESTED.value):
        event = envelope.event
        if (
            isinstance(event, ApprovalRequested)
            and event.request_id == request_id
            and event.extension_id == extension_id
        ):
            return event
    return None
