"""End to end (issue #8): Tailscale failing, and services crashing in the middle of a flow.

Each test has its own harness: one needs grants with a small retry budget, the
others SIGKILL and restart a service process.
"""

from __future__ import annotations

import signal
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from accessbot.harness import Harness
from accessbot.scenario import press_in_dm
from emulators.tailscale.faults import Fault
from shared.contracts.events import GrantApplied, GrantFailed, RequestApproved
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId
from tests.e2e.support import (
    BOB,
    DANA,
    TIMEOUT,
    assert_no_secret_logged,
    attribute_calls,
    events_for,
    one_event,
    running_harness,
    submit,
    uid,
    wait_for_dm,
)

RETRY_BUDGET_SECONDS = 2.0


@pytest.fixture
async def harness(tmp_path: Path) -> AsyncIterator[Harness]:
    async with running_harness(tmp_path) as running:
        yield running


@pytest.fixture
async def impatient_harness(tmp_path: Path) -> AsyncIterator[Harness]:
    """Grants gives up on Tailscale after a 2 s retry budget (default 20 s)."""
    grants_env = {"TAILSCALE_RETRY_BUDGET_SECONDS": str(RETRY_BUDGET_SECONDS)}
    async with running_harness(tmp_path, extra_env={"grants": grants_env}) as running:
        yield running


async def test_tailscale_refusing_is_reported_to_the_requester(
    impatient_harness: Harness,
) -> None:
    h = impatient_harness
    h.tailscale.inject(Fault(kind="500", count=None, path=r"flakyAccess"))
    rid = await submit(h, DANA, "flaky", reason="Rotate the keys")
    await h.wait_for_event(Subject.APPROVAL_REQUESTED.value, rid)
    await press_in_dm(h.slack, uid(BOB), ActionId.APPROVE, rid, timeout=TIMEOUT)

    failed = (await one_event(h, Subject.GRANT_FAILED, rid)).event
    assert isinstance(failed, GrantFailed)
    assert failed.status_code == 500
    assert failed.error_code
    assert "500" in failed.message
    # grants retried within its budget, then gave up; nothing was set.
    posts = attribute_calls(h, "POST", failed.device_id, "custom:flakyAccess")
    assert len(posts) >= 2, posts
    assert {(c.status, c.fault) for c in posts} == {(500, "500")}
    assert posts[-1].monotonic - posts[0].monotonic <= RETRY_BUDGET_SECONDS + 1
    assert "custom:flakyAccess" not in h.tailscale.attributes(failed.device_id)

    told = await wait_for_dm(h, DANA, rid, r"Access could not be applied")
    assert failed.error_code in told.text
    assert "Nothing was granted" in told.text
    assert await events_for(h, Subject.GRANT_APPLIED, rid) == []
    assert len(await events_for(h, Subject.GRANT_FAILED, rid)) == 1
    assert_no_secret_logged(h)  # grants logged the failures: no credential among them


async def test_intake_crash_between_request_and_approval_loses_nothing(
    harness: Harness,
) -> None:
    h = harness
    rid = await submit(h, DANA, "prod", reason="Restart the billing job")
    await h.wait_for_event(Subject.APPROVAL_REQUESTED.value, rid)
    await wait_for_dm(h, BOB, rid, "asks for")

    old = h.services["intake"].process
    assert old is not None
    await h.stop_service("intake", signal.SIGKILL)
    assert old.returncode == -signal.SIGKILL
    await h.start_service("intake")

    # Bob's click reaches the new intake process, through its new Socket Mode connection.
    ack_count = len(h.slack.acks)
    await press_in_dm(h.slack, uid(BOB), ActionId.APPROVE, rid, timeout=TIMEOUT)
    assert [a.acked for a in h.slack.acks[ack_count:]] == [True]
    grant = (await one_event(h, Subject.GRANT_APPLIED, rid)).event
    assert isinstance(grant, GrantApplied)
    assert h.tailscale.attributes(grant.device_id)["custom:prodAccess"]["value"] is True
    await wait_for_dm(h, DANA, rid, r"Access granted")
    assert len(await events_for(h, Subject.DECISION_SUBMITTED, rid)) == 1
    assert len(await events_for(h, Subject.GRANT_APPLIED, rid)) == 1


async def test_grants_down_when_approved_applies_once_after_restart(harness: Harness) -> None:
    h = harness
    rid = await submit(h, DANA, "prod", reason="Patch the gateway")
    await h.wait_for_event(Subject.APPROVAL_REQUESTED.value, rid)
    await wait_for_dm(h, BOB, rid, "asks for")

    await h.stop_service("grants", signal.SIGKILL)
    await press_in_dm(h.slack, uid(BOB), ActionId.APPROVE, rid, timeout=TIMEOUT)
    approved = (await one_event(h, Subject.REQUEST_APPROVED, rid)).event
    assert isinstance(approved, RequestApproved)
    device_id = approved.device.node_id
    # Approved while grants is down: the approval waits in its durable consumer.
    await wait_for_dm(h, DANA, rid, r"Approved")
    assert attribute_calls(h, "POST", device_id, "custom:prodAccess") == []
    assert await events_for(h, Subject.GRANT_APPLIED, rid) == []

    await h.start_service("grants")
    grant = (await one_event(h, Subject.GRANT_APPLIED, rid)).event
    assert isinstance(grant, GrantApplied)
    assert grant.device_id == device_id
    assert h.tailscale.attributes(device_id)["custom:prodAccess"]["value"] is True
    await wait_for_dm(h, DANA, rid, r"Access granted")
    assert len(attribute_calls(h, "POST", device_id, "custom:prodAccess")) == 1
    assert len(await events_for(h, Subject.GRANT_APPLIED, rid)) == 1
