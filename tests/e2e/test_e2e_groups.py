"""End to end (issue 15): a Slack user group as approvers, through the Slack emulator.

The sandbox seeds group S0E2EONCALL with two active members and a deactivated one
(accessbot.sandbox.sandbox_workspace); intake resolves it with usergroups.users.list.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from accessbot.harness import Harness
from accessbot.sandbox import group_members
from accessbot.scenario import press_in_dm
from shared.contracts.events import ApprovalRequested, RequestApproved, SubmitRequest
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId
from tests.e2e.support import (
    DANA,
    TIMEOUT,
    one_event,
    running_harness,
    submit,
    uid,
    wait_for_dm,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

GROUP = "S0E2EONCALL"
FIRST, SECOND = group_members(GROUP)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path_factory.mktemp("e2e-groups")) as running:
        yield running


async def test_a_group_member_approves_a_request_of_a_group_profile(harness: Harness) -> None:
    rid = await submit(harness, DANA, "oncall", reason="Pager duty")
    submitted = (await one_event(harness, Subject.REQUEST_SUBMITTED, rid)).event
    assert isinstance(submitted, SubmitRequest)
    # The deactivated member is left out; the resolved members travel with the submission.
    assert [(g.group_id, g.members) for g in submitted.approver_groups] == [
        (GROUP, [FIRST, SECOND])
    ]
    asked = (await one_event(harness, Subject.APPROVAL_REQUESTED, rid)).event
    assert isinstance(asked, ApprovalRequested)
    assert [p.email for p in asked.approvers] == [FIRST, SECOND]
    assert asked.approver_groups == [GROUP]

    shown = await wait_for_dm(harness, SECOND, rid, "asks for")
    assert "subteam^S0E2EONCALL" in shown.text or "S0E2EONCALL" in str(shown.blocks)
    await press_in_dm(harness.slack, uid(SECOND), ActionId.APPROVE, rid, timeout=TIMEOUT)
    approved = (await one_event(harness, Subject.REQUEST_APPROVED, rid)).event
    assert isinstance(approved, RequestApproved)
    assert [p.email for p in approved.approvers] == [SECOND]
    calls = [c for c in harness.slack.api_calls if c.method == "usergroups.users.list"]
    assert calls
    assert all(c.ok for c in calls)
