"""End to end (issue #8): the request lifecycle across the four service processes.

One harness for the module (real nats-server, Slack and Tailscale emulators, four
services as OS processes); each test files its own request and looks only at what
concerns that request id, so the tests do not interfere.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
import pytest_asyncio

from accessbot.harness import Harness
from accessbot.scenario import press_in_dm
from shared.contracts.events import (
    ApprovalMode,
    ApprovalRequested,
    DecisionRefused,
    GrantApplied,
    GrantExpired,
    GrantRevoked,
    RefusalReason,
    RequestApproved,
    RequestDenied,
    RequestExpired,
    SubmitRequest,
)
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId, CallbackId
from tests.e2e.support import (
    ALICE,
    AUDIT_CHANNEL,
    BOB,
    CAROL,
    DANA,
    SECOPS,
    TIMEOUT,
    action_ids,
    assert_no_secret_logged,
    attribute_calls,
    dms_about,
    events_for,
    eventually,
    one_event,
    running_harness,
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
    async with running_harness(tmp_path_factory.mktemp("e2e-lifecycle")) as running:
        yield running


async def asked(harness: Harness, request_id: str) -> ApprovalRequested:
    event = (await one_event(harness, Subject.APPROVAL_REQUESTED, request_id)).event
    assert isinstance(event, ApprovalRequested)
    return event


async def applied(harness: Harness, request_id: str) -> GrantApplied:
    event = (await one_event(harness, Subject.GRANT_APPLIED, request_id)).event
    assert isinstance(event, GrantApplied)
    return event


async def test_approve_apply_then_requester_revokes(harness: Harness) -> None:
    rid = await submit(harness, DANA, "prod", reason="Deploying hotfix", duration_seconds=3600)
    await asked(harness, rid)

    before = datetime.now(UTC)
    await wait_for_dm(harness, BOB, rid, "asks for")
    await press_in_dm(harness.slack, uid(BOB), ActionId.APPROVE, rid, timeout=TIMEOUT)
    grant = await applied(harness, rid)
    after = datetime.now(UTC)

    # On the tailnet: the attribute, true, until approval time + the hour asked for.
    hour = timedelta(hours=1)
    slack = timedelta(seconds=2)
    assert before + hour - slack <= grant.expires_at <= after + hour + slack
    attribute = harness.tailscale.attributes(grant.device_id).get("custom:prodAccess")
    assert attribute is not None, harness.tailscale.attributes(grant.device_id)
    assert attribute["value"] is True
    assert abs(attribute["expiry"] - grant.expires_at) <= timedelta(seconds=1)
    device = harness.tailscale.device(grant.device_id)
    assert device is not None
    assert device["user"] == DANA

    # Dana is told, with the Revoke button at hand; she presses it and confirms.
    told = await wait_for_dm(harness, DANA, rid, r"Access granted")
    assert ActionId.REVOKE.value in action_ids(told)
    await press_in_dm(harness.slack, uid(DANA), ActionId.REVOKE, rid, timeout=TIMEOUT)
    await wait_for_modal(harness, DANA, CallbackId.REVOKE_MODAL)
    ack = await harness.slack.driver.submit_view(
        uid(DANA), values={ActionId.REVOKE_REASON_INPUT: "Hotfix deployed"}
    )
    assert ack is None

    revoked = (await one_event(harness, Subject.GRANT_REVOKED, rid)).event
    assert isinstance(revoked, GrantRevoked)
    assert revoked.revoked_by.email == DANA
    assert revoked.reason == "Hotfix deployed"
    # grants deleted it (the emulator would keep an expired one for minutes, not this one).
    assert "custom:prodAccess" not in harness.tailscale.attributes(grant.device_id)
    deletes = attribute_calls(harness, "DELETE", grant.device_id, "custom:prodAccess")
    assert [c.status for c in deletes] == [200]

    told = await wait_for_dm(harness, DANA, rid, r"Access revoked")
    assert ActionId.REVOKE.value not in action_ids(told)
    assert "Hotfix deployed" in told.text
    posts = attribute_calls(harness, "POST", grant.device_id, "custom:prodAccess")
    assert len(posts) == 1
    assert len(await events_for(harness, Subject.GRANT_APPLIED, rid)) == 1
    assert len(await events_for(harness, Subject.GRANT_REVOKED, rid)) == 1


async def test_deny_with_reason_reaches_requester(harness: Harness) -> None:
    rid = await submit(harness, CAROL, "prod", reason="Read the audit tables")
    submitted = (await one_event(harness, Subject.REQUEST_SUBMITTED, rid)).event
    assert isinstance(submitted, SubmitRequest)
    request = await asked(harness, rid)
    assert {p.email for p in request.approvers} == {ALICE, BOB}

    await press_in_dm(harness.slack, uid(BOB), ActionId.DENY, rid, timeout=TIMEOUT)
    await wait_for_modal(harness, BOB, CallbackId.DENY_MODAL)
    ack = await harness.slack.driver.submit_view(
        uid(BOB), values={ActionId.DENY_REASON_INPUT: "Not during the change freeze"}
    )
    assert ack is None

    denied = (await one_event(harness, Subject.REQUEST_DENIED, rid)).event
    assert isinstance(denied, RequestDenied)
    assert denied.denied_by.email == BOB
    assert denied.reason == "Not during the change freeze"

    told = await wait_for_dm(harness, CAROL, rid, r"Denied.*Not during the change freeze")
    assert ActionId.CANCEL.value not in action_ids(told)
    for approver in (ALICE, BOB):
        copy = await wait_for_dm(harness, approver, rid, r"Denied")
        assert not DECIDE_BUTTONS & action_ids(copy), approver

    assert await events_for(harness, Subject.REQUEST_APPROVED, rid) == []
    assert harness.tailscale.calls_to("POST", rf"/device/{submitted.device_id}/") == []


async def test_unanswered_request_expires_once(harness: Harness) -> None:
    rid = await submit(harness, DANA, "pending", reason="Check the queue")
    submitted = (await one_event(harness, Subject.REQUEST_SUBMITTED, rid)).event
    assert isinstance(submitted, SubmitRequest)
    request = await asked(harness, rid)
    ttl = request.expires_at - submitted.submitted_at
    assert timedelta(seconds=2) <= ttl <= timedelta(seconds=4), ttl  # the profile's 3 s
    waiting = await wait_for_dm(harness, BOB, rid, "asks for")
    assert action_ids(waiting) >= DECIDE_BUTTONS

    # Nobody answers: the TTL timer fires in approvals.
    expired = (await one_event(harness, Subject.REQUEST_EXPIRED, rid)).event
    assert isinstance(expired, RequestExpired)
    assert expired.expired_at >= request.expires_at - timedelta(seconds=1)
    assert expired.expired_at <= request.expires_at + timedelta(seconds=10)

    told = await wait_for_dm(harness, DANA, rid, r"Expired")
    assert ActionId.CANCEL.value not in action_ids(told)
    copy = await wait_for_dm(harness, BOB, rid, r"Expired")
    assert not DECIDE_BUTTONS & action_ids(copy)
    assert len(await events_for(harness, Subject.REQUEST_EXPIRED, rid)) == 1
    assert await events_for(harness, Subject.REQUEST_APPROVED, rid) == []


async def test_grant_expires_and_grants_removes_the_attribute(harness: Harness) -> None:
    rid = await submit(harness, DANA, "short", reason="Quick look", duration_seconds=4)
    await asked(harness, rid)
    await press_in_dm(harness.slack, uid(BOB), ActionId.APPROVE, rid, timeout=TIMEOUT)
    grant = await applied(harness, rid)
    approved = (await one_event(harness, Subject.REQUEST_APPROVED, rid)).event
    assert isinstance(approved, RequestApproved)
    # expiry = the moment grants claims the approval (after approved_at, before the
    # Tailscale call, so before applied_at), rounded up to the whole second, + the 4 s.
    assert grant.expires_at - approved.approved_at >= timedelta(seconds=4)
    lasts = grant.expires_at - grant.applied_at
    assert lasts < timedelta(seconds=5), lasts
    # On a loaded machine the call may outlast the rounding's slack: a few ms less.
    assert lasts > timedelta(seconds=3.5), lasts
    assert harness.tailscale.attributes(grant.device_id)["custom:shortAccess"]["value"] is True

    ended = (await one_event(harness, Subject.GRANT_EXPIRED, rid)).event
    assert isinstance(ended, GrantExpired)
    late = ended.expired_at - grant.expires_at
    assert timedelta(seconds=-1) <= late <= timedelta(seconds=5), late
    # Removed by grants itself: the emulator keeps expired attributes for minutes.
    assert "custom:shortAccess" not in harness.tailscale.attributes(grant.device_id)
    deletes = attribute_calls(harness, "DELETE", grant.device_id, "custom:shortAccess")
    assert [c.status for c in deletes] == [200]

    told = await wait_for_dm(harness, DANA, rid, r"Access ended")
    assert not {ActionId.REVOKE.value, ActionId.EXTEND.value} & action_ids(told)
    assert len(await events_for(harness, Subject.GRANT_EXPIRED, rid)) == 1
    assert await events_for(harness, Subject.GRANT_REVOKED, rid) == []


async def test_quorum_needs_two_distinct_approvers(harness: Harness) -> None:
    rid = await submit(harness, DANA, "quorum", reason="Database migration")
    request = await asked(harness, rid)
    assert request.approvals_required == 2
    assert {p.email for p in request.approvers} == {ALICE, BOB, CAROL}
    for approver in (ALICE, BOB, CAROL):
        copy = await wait_for_dm(harness, approver, rid, "asks for")
        assert action_ids(copy) >= DECIDE_BUTTONS, approver

    # Alice approves, twice (a double click): one vote counts, the other is refused.
    first = await wait_for_dm(harness, ALICE, rid, "asks for")
    driver = harness.slack.driver
    # Both clicks land before her copy loses its buttons (a counted approval removes them).
    await asyncio.gather(
        *(
            driver.press_button(uid(ALICE), first.channel, first.ts, ActionId.APPROVE)
            for _ in range(2)
        )
    )

    async def alice_refused() -> list[DecisionRefused]:
        return [
            e
            for e in await events_for(harness, Subject.DECISION_REFUSED, rid)
            if isinstance(e, DecisionRefused) and e.actor.email == ALICE
        ]

    refusals = await eventually(alice_refused, "alice's second click refused")
    assert [r.code for r in refusals] == [RefusalReason.ALREADY_DECIDED]
    await wait_for_dm(harness, ALICE, rid, "did not count")
    # One distinct approval of two: nothing approved, nothing set.
    assert await events_for(harness, Subject.REQUEST_APPROVED, rid) == []
    assert await events_for(harness, Subject.GRANT_APPLIED, rid) == []
    assert harness.tailscale.calls_to("POST", r"/attributes/custom:quorumAccess$") == []
    still = await wait_for_dm(harness, CAROL, rid, "asks for")
    assert action_ids(still) >= DECIDE_BUTTONS

    await press_in_dm(harness.slack, uid(BOB), ActionId.APPROVE, rid, timeout=TIMEOUT)
    approved = (await one_event(harness, Subject.REQUEST_APPROVED, rid)).event
    assert isinstance(approved, RequestApproved)
    assert approved.mode is ApprovalMode.QUORUM
    assert [p.email for p in approved.approvers] == [ALICE, BOB]
    grant = await applied(harness, rid)
    assert harness.tailscale.attributes(grant.device_id)["custom:quorumAccess"]["value"] is True

    # Every approver's copy is updated in place: the buttons are gone.
    for approver in (ALICE, BOB, CAROL):
        copy = await wait_for_dm(harness, approver, rid, r"Approved")
        assert not DECIDE_BUTTONS & action_ids(copy), approver
    await wait_for_dm(harness, DANA, rid, r"Access granted")
    assert len(attribute_calls(harness, "POST", grant.device_id, "custom:quorumAccess")) == 1
    assert len(await events_for(harness, Subject.GRANT_APPLIED, rid)) == 1


async def test_break_glass_applies_at_once_and_alerts_the_audit_channel(
    harness: Harness,
) -> None:
    rid = await submit(harness, SECOPS, "glass", reason="Outage, nobody reachable")

    approved = (await one_event(harness, Subject.REQUEST_APPROVED, rid)).event
    assert isinstance(approved, RequestApproved)
    assert approved.mode is ApprovalMode.BREAK_GLASS
    grant = await applied(harness, rid)
    assert harness.tailscale.attributes(grant.device_id)["custom:breakGlass"]["value"] is True

    alert = await wait_for_channel(harness, AUDIT_CHANNEL, rid, r"<!here>")
    assert ":rotating_light:" in alert.text
    assert "Break-glass" in alert.text
    assert alert.thread_ts is None  # top level, where the channel sees it
    await wait_for_dm(harness, SECOPS, rid, r"Access granted")
    # Nobody was asked, so no approver holds a message about it.
    assert await events_for(harness, Subject.APPROVAL_REQUESTED, rid) == []
    for approver in (ALICE, BOB, CAROL):
        assert dms_about(harness, approver, rid) == []


async def test_no_secret_in_any_service_log(harness: Harness) -> None:
    # Runs last in the module: the logs then cover every flow above.
    assert_no_secret_logged(harness)
