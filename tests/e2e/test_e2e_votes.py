"""End to end: quorum votes visible in Slack (access.approval.counted), through the Slack
emulator and the four service processes.

Profile `quorum` (tests/e2e/profiles.yaml): two of alice, bob and carol must approve.
Its own harness: the lifecycle module's many updates would spend Slack's chat.update
budget (Tier 3, 50 a minute) and a 429's Retry-After would outlast the waits here.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from accessbot.harness import Harness
from accessbot.scenario import press_in_dm
from shared.contracts.events import ApprovalCounted, ApprovalRequested, RequestDenied
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId, CallbackId
from tests.e2e.support import (
    ALICE,
    AUDIT_CHANNEL,
    BOB,
    CAROL,
    DANA,
    TIMEOUT,
    action_ids,
    events_for,
    eventually,
    one_event,
    running_harness,
    shown_text,
    submit,
    uid,
    wait_for_channel,
    wait_for_dm,
    wait_for_modal,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

DECIDE_BUTTONS = {ActionId.APPROVE.value, ActionId.DENY.value}


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path_factory.mktemp("e2e-votes")) as running:
        yield running


async def asked(harness: Harness, request_id: str) -> ApprovalRequested:
    event = (await one_event(harness, Subject.APPROVAL_REQUESTED, request_id)).event
    assert isinstance(event, ApprovalRequested)
    return event


async def test_a_counted_approval_is_visible_and_the_deny_names_it(harness: Harness) -> None:
    rid = await submit(harness, DANA, "quorum", reason="Schema change")
    await asked(harness, rid)
    await press_in_dm(harness.slack, uid(ALICE), ActionId.APPROVE, rid, timeout=TIMEOUT)
    counted = (await one_event(harness, Subject.APPROVAL_COUNTED, rid)).event
    assert isinstance(counted, ApprovalCounted)
    assert [p.email for p in counted.approvals] == [ALICE]
    assert counted.approvals_required == 2

    # Alice sees her click counted (no buttons); Carol and Dana see the approvals so far.
    own = await wait_for_dm(harness, ALICE, rid, r"Your approval is counted.*1 more approval")
    assert not DECIDE_BUTTONS & action_ids(own)
    other = await wait_for_dm(harness, CAROL, rid, rf"1 of 2 approvals\* so far: <@{uid(ALICE)}>")
    assert action_ids(other) >= DECIDE_BUTTONS
    waiting = await wait_for_dm(harness, DANA, rid, rf"1 of 2 approvals\* so far: <@{uid(ALICE)}>")
    # The approvers are named as the form named them (mentions), not by email.
    assert f"<@{uid(BOB)}>" in shown_text(waiting)
    assert "bob@example.com" not in shown_text(waiting)
    status = await wait_for_channel(harness, AUDIT_CHANNEL, rid, r"1 of 2 approvals")

    async def recorded() -> list[str] | None:
        steps = [
            m.text
            for m in harness.slack.messages(AUDIT_CHANNEL)
            if m.thread_ts == status.ts != m.ts and "approved the request" in m.text
        ]
        return steps or None

    [step] = await eventually(recorded, "the counted approval in the audit thread")
    assert "1 of 2 approvals so far" in step

    # Bob denies: every message names Alice's approval, not only "Denied by Bob".
    await press_in_dm(harness.slack, uid(BOB), ActionId.DENY, rid, timeout=TIMEOUT)
    await wait_for_modal(harness, BOB, CallbackId.DENY_MODAL)
    await harness.slack.driver.submit_view(uid(BOB), values={ActionId.DENY_REASON_INPUT: "Freeze"})
    denied = (await one_event(harness, Subject.REQUEST_DENIED, rid)).event
    assert isinstance(denied, RequestDenied)
    had = rf"It had 1 of 2 approvals \(<@{uid(ALICE)}>\)"
    await wait_for_dm(harness, DANA, rid, rf"Denied.*Freeze.*\n{had}")
    for approver in (ALICE, CAROL):
        copy = await wait_for_dm(harness, approver, rid, rf"Denied.*\n{had}")
        assert not DECIDE_BUTTONS & action_ids(copy), approver
    await wait_for_channel(harness, AUDIT_CHANNEL, rid, r"Denied.*it had 1 of 2 approvals")
    # One counted approval, published once, whatever was redelivered meanwhile.
    assert len(await events_for(harness, Subject.APPROVAL_COUNTED, rid)) == 1
