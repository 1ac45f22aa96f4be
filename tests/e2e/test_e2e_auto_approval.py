"""End to end (issue 15, item 7): guarded auto-approval through the Slack emulator.

Dana files requests through the form; what is checked is what Slack shows (her DMs, the
approver's DMs, the audit thread) and the grant in the Tailscale emulator. The services
run on the wall clock, so the profiles are written for the moment the test starts: one
window around the whole week (always inside), one that opens two hours from now.
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from accessbot.harness import Harness, start_harness
from emulators.slack import PostedMessage
from shared.contracts.events import (
    ApprovalMode,
    ApprovalRequested,
    AutoApprovalHeld,
    GrantApplied,
    RequestApproved,
)
from shared.contracts.subjects import Subject
from tests.e2e.support import (
    AUDIT_CHANNEL,
    BOB,
    DANA,
    TIMEOUT,
    dms_about,
    one_event,
    own_devices,
    shown_text,
    submit,
    wait_for_channel,
    wait_for_dm,
)

pytestmark = pytest.mark.asyncio(loop_scope="module")

PROFILE = """\
  - id: {id}
    description: {description}
    attribute: custom:{attribute}
    max_duration: 1h
    approvers: {{emails: [bob@example.com]}}
    devices: own
    notify_channels: [C0E2EAUDIT1]
    auto_approve:
      requesters: [dana@example.com]
      max_duration: 1h
      max_per_day: 1
      hours: {hours}
"""


def closed_window(now: datetime) -> str:
    """Every day, the hour starting two hours from now (UTC): closed for at least an hour."""
    start = (now.hour + 2) % 24
    end = (now.hour + 3) % 24
    return f"Mon-Sun {start:02d}:00-{end or 24:02d}:00 UTC"


def write_profiles(path: Path, now: datetime) -> Path:
    open_all_week = "Mon-Sun 00:00-24:00 Europe/Berlin"
    text = (
        "admins: [secops@example.com]\ndefaults: {request_ttl: 1h, max_duration: 1h}\nprofiles:\n"
    )
    text += PROFILE.format(
        id="oncall", description="On call", attribute="oncallAccess", hours=open_all_week
    )
    text += PROFILE.format(
        id="office", description="Office hours", attribute="officeAccess", hours=closed_window(now)
    )
    path.write_text(text, encoding="utf-8")
    return path


async def audit_reply(harness: Harness, request_id: str, pattern: str) -> PostedMessage:
    """A reply in the audit thread of `request_id` (its status message) matching `pattern`."""
    status = await wait_for_channel(harness, AUDIT_CHANNEL, request_id, r"access for")
    regex = re.compile(pattern)

    def shown() -> PostedMessage | None:
        for message in harness.slack.messages(AUDIT_CHANNEL):
            if message.thread_ts == status.ts and regex.search(shown_text(message)):
                return message
        return None

    try:
        return await harness.slack.wait_until(shown, timeout=TIMEOUT)
    except TimeoutError:
        thread = [
            shown_text(m) for m in harness.slack.messages(AUDIT_CHANNEL) if m.thread_ts == status.ts
        ]
        raise AssertionError(f"no /{pattern}/ in the audit thread: {thread}") from None


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def harness(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Harness]:
    data_dir = tmp_path_factory.mktemp("e2e-auto-approval")
    profiles = write_profiles(data_dir / "profiles.yaml", datetime.now(UTC))
    running = await start_harness(data_dir, profiles_path=profiles)
    try:
        yield running
    finally:
        await running.stop()


async def test_inside_the_window_and_budget_access_is_granted_without_anyone_asked(
    harness: Harness,
) -> None:
    rid = await submit(harness, DANA, "oncall", reason="Paged: INC-7", duration_seconds=1800)

    approved = (await one_event(harness, Subject.REQUEST_APPROVED, rid)).event
    assert isinstance(approved, RequestApproved)
    assert approved.mode is ApprovalMode.AUTO
    grant = (await one_event(harness, Subject.GRANT_APPLIED, rid)).event
    assert isinstance(grant, GrantApplied)
    assert harness.tailscale.attributes(grant.device_id)["custom:oncallAccess"]["value"] is True
    await wait_for_dm(harness, DANA, rid, r"Access granted")
    await audit_reply(harness, rid, r"Approved automatically")
    assert dms_about(harness, BOB, rid) == []


async def test_over_the_daily_budget_bob_is_asked_and_the_audit_says_why(
    harness: Harness,
) -> None:
    # The first test spent the day's one auto-approval of `oncall`; its grant is still
    # active on that device (one grant per device and profile), so Dana asks on another.
    second_device = own_devices(harness, DANA)[1]
    rid = await submit(
        harness,
        DANA,
        "oncall",
        reason="Paged again",
        duration_seconds=1800,
        device_id=second_device,
    )

    asked = (await one_event(harness, Subject.APPROVAL_REQUESTED, rid)).event
    assert isinstance(asked, ApprovalRequested)
    assert asked.auto_approval is not None
    assert asked.auto_approval.code is AutoApprovalHeld.OVER_DAILY_BUDGET
    await wait_for_dm(harness, BOB, rid, r"Approve")
    await audit_reply(
        harness, rid, r"Not auto-approved: the requester already had 1 auto-approval of"
    )


async def test_outside_the_window_bob_is_asked_and_the_audit_says_why(harness: Harness) -> None:
    rid = await submit(harness, DANA, "office", reason="Routine change", duration_seconds=1800)

    asked = (await one_event(harness, Subject.APPROVAL_REQUESTED, rid)).event
    assert isinstance(asked, ApprovalRequested)
    assert asked.auto_approval is not None
    assert asked.auto_approval.code is AutoApprovalHeld.OUTSIDE_HOURS
    await wait_for_dm(harness, BOB, rid, r"Approve")
    await audit_reply(harness, rid, r"Not auto-approved: outside its hours \(Mon-Sun ")
