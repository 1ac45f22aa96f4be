"""End to end (issue 15, item 2): a reminder, then an escalation, then an approval by a
fallback approver, through the Slack emulator.

Profile `nudged` (tests/e2e/profiles.yaml): bob approves; one reminder after 3 s; after
6 s the members of Slack user group S0E2EFALLBK (seeded by the sandbox, resolved by
intake at submission) may decide too and are asked; the request would expire after 60 s.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from accessbot.harness import Harness
from accessbot.sandbox import group_members
from accessbot.scenario import press_in_dm
from emulators.slack import PostedMessage
from shared.contracts.events import (
    ApprovalEscalated,
    ApprovalReminded,
    ApprovalRequested,
    DecisionRefused,
    RefusalReason,
    RequestApproved,
    SubmitRequest,
)
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId
from tests.e2e.support import (
    AUDIT_CHANNEL,
    BOB,
    DANA,
    TIMEOUT,
    events_for,
    eventually,
    one_event,
    running_harness,
    shown_text,
    submit,
    uid,
    wait_for_channel,
    wait_for_dm,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

FALLBACK = "S0E2EFALLBK"
FIRST, SECOND = group_members(FALLBACK)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path_factory.mktemp("e2e-reminders")) as running:
        yield running


def thread_under(harness: Harness, email: str, parent: PostedMessage) -> list[PostedMessage]:
    """The replies in `email`'s DM threaded under `parent`."""
    return [m for m in harness.slack.dms(uid(email)) if m.thread_ts == parent.ts != m.ts]


async def test_a_reminder_then_an_escalation_then_the_fallback_approves(
    harness: Harness,
) -> None:
    rid = await submit(harness, DANA, "nudged", reason="Nobody answers")
    submitted = (await one_event(harness, Subject.REQUEST_SUBMITTED, rid)).event
    assert isinstance(submitted, SubmitRequest)
    # intake resolved the escalation's group with the submission (approvals never asks Slack)
    assert [(g.group_id, g.members) for g in submitted.approver_groups] == [
        (FALLBACK, [FIRST, SECOND])
    ]
    asked = (await one_event(harness, Subject.APPROVAL_REQUESTED, rid)).event
    assert isinstance(asked, ApprovalRequested)
    assert [p.email for p in asked.approvers] == [BOB]

    # Nobody of the group is asked before the escalation (they may not decide yet:
    # tests/approvals/test_approvals_nudges.py shows their click refused).
    assert harness.slack.dms(uid(FIRST)) == []

    # 1. The reminder: bob's copy says so, and a thread reply under it notifies him.
    reminded = (await one_event(harness, Subject.APPROVAL_REMINDED, rid)).event
    assert isinstance(reminded, ApprovalReminded)
    assert [p.email for p in reminded.approvers] == [BOB]
    assert (reminded.reminder, reminded.max_reminders) == (1, 1)
    copy = await wait_for_dm(harness, BOB, rid, r"Reminder 1 of 1")

    async def reply() -> PostedMessage | None:
        found = [m for m in thread_under(harness, BOB, copy) if "Reminder 1 of 1" in m.text]
        return found[0] if found else None

    await eventually(reply, "a reminder thread reply under bob's copy")

    # 2. The escalation: the group's members are asked like bob was; Dana and the audit
    # channel are told.
    escalated = (await one_event(harness, Subject.APPROVAL_ESCALATED, rid)).event
    assert isinstance(escalated, ApprovalEscalated)
    assert [p.email for p in escalated.approvers] == [FIRST, SECOND]
    assert escalated.approver_groups == [FALLBACK]
    ask = await wait_for_dm(harness, FIRST, rid, r"asks for")
    assert "Escalated" in shown_text(ask)
    assert "Reminder" not in shown_text(ask)  # the reminder went to bob, not to them
    assert {"approve", "deny"} <= {
        str(e.get("action_id")) for b in ask.blocks for e in b.get("elements") or []
    }
    requester_dm = await wait_for_dm(harness, DANA, rid, r"Escalated")

    async def told() -> PostedMessage | None:
        found = [m for m in thread_under(harness, DANA, requester_dm) if "escalated" in m.text]
        return found[0] if found else None

    await eventually(told, "an escalation thread reply under Dana's DM")
    status = await wait_for_channel(harness, AUDIT_CHANNEL, rid, r"Pending")

    async def recorded() -> list[str] | None:
        steps = [
            m.text
            for m in harness.slack.messages(AUDIT_CHANNEL)
            if m.thread_ts == status.ts != m.ts
        ]
        wanted = ("Reminder 1 of 1 sent", "Escalated after")
        return steps if all(any(w in t for t in steps) for w in wanted) else None

    await eventually(recorded, "the reminder and the escalation in the audit thread")

    # 3. A fallback approver approves.
    await press_in_dm(harness.slack, uid(FIRST), ActionId.APPROVE, rid, timeout=TIMEOUT)
    approved = (await one_event(harness, Subject.REQUEST_APPROVED, rid)).event
    assert isinstance(approved, RequestApproved)
    assert [p.email for p in approved.approvers] == [FIRST]
    await wait_for_dm(harness, DANA, rid, r"Access granted")

    # Exactly one reminder and one escalation, whatever the timers did meanwhile.
    await asyncio.sleep(1.0)
    assert len(await events_for(harness, Subject.APPROVAL_REMINDED, rid)) == 1
    assert len(await events_for(harness, Subject.APPROVAL_ESCALATED, rid)) == 1
    refused = await events_for(harness, Subject.DECISION_REFUSED, rid)
    assert not [
        e
        for e in refused
        if isinstance(e, DecisionRefused) and e.code is RefusalReason.NOT_ELIGIBLE
    ]
