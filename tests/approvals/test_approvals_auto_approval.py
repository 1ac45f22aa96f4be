"""Guarded auto-approval: `auto_approve.hours` and `max_per_day` (profile `guarded`:
dave, up to 1h, Mon-Fri 08:00-18:00 Europe/Berlin, two a day).

Handlers on in-memory ports with a fixed clock; the budget under concurrent replicas on a
real nats-server is in test_approvals_app.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from services.approvals.domain import extensions, grant_tracking, machine
from services.approvals.domain.budget import BudgetClaim, budget_key, claim
from services.approvals.domain.record import RequestRecord, RequestStatus
from shared.contracts.events import (
    ApprovalMode,
    ApprovalRequested,
    AutoApprovalFacts,
    AutoApprovalHeld,
    ExtensionApproved,
    GrantApplied,
    RequestApproved,
    RequestRejected,
    SubmitRequest,
)
from shared.contracts.subjects import Subject
from tests.approvals.factories import (
    DAVE_DEVICE_IDS,
    NOW,
    REQUESTER,
    device,
    extend,
    profiles,
    submitted,
)
from tests.approvals.fakes import FakeHarness, envelope

# NOW is Monday 2026-11-30 09:00 UTC, 10:00 in Berlin: inside the window.
EVENING = datetime(2026, 11, 30, 17, 30, tzinfo=UTC)  # 18:30 in Berlin
SATURDAY = datetime(2026, 12, 5, 10, 0, tzinfo=UTC)
TUESDAY = NOW + timedelta(days=1)
HOURS = "Mon-Fri 08:00-18:00 Europe/Berlin"


def guarded(**overrides: Any) -> SubmitRequest:
    values: dict[str, Any] = {"profile_id": "guarded", "duration_seconds": 3600}
    return submitted(**{**values, **overrides})


async def open_at(harness: FakeHarness, moment: datetime, sub: SubmitRequest) -> RequestRecord:
    harness.now = moment
    await harness.app().on_submitted(envelope(sub))
    stored = await harness.store.load(sub.request_id)
    assert stored is not None
    return stored.record


def asked_why(harness: FakeHarness, request_id: str) -> AutoApprovalFacts | None:
    [event] = [
        e for _, e in harness.publisher.on(Subject.APPROVAL_REQUESTED) if e.request_id == request_id
    ]
    assert isinstance(event, ApprovalRequested)
    return event.auto_approval


async def test_inside_the_window_within_the_budget_it_is_approved_at_once() -> None:
    harness = FakeHarness()
    record = await open_at(harness, NOW, guarded())
    assert record.status is RequestStatus.APPROVED
    assert record.mode is ApprovalMode.AUTO
    [(_, approved)] = harness.publisher.on(Subject.REQUEST_APPROVED)
    assert isinstance(approved, RequestApproved)
    assert approved.approvers == []
    day = await harness.budgets.load(budget_key("guarded", REQUESTER.email, NOW.date()))
    assert day is not None
    assert day.record.request_ids == [record.request_id]


async def test_outside_the_window_approvers_are_asked_and_told_why() -> None:
    harness = FakeHarness()
    for moment in (EVENING, SATURDAY):
        sub = guarded()
        record = await open_at(harness, moment, sub)
        assert record.status is RequestStatus.PENDING
        assert [p.email for p in record.asked] == ["alice@example.com"]
        assert asked_why(harness, sub.request_id) == AutoApprovalFacts(
            code=AutoApprovalHeld.OUTSIDE_HOURS, hours=HOURS
        )
    assert harness.publisher.on(Subject.REQUEST_APPROVED) == []
    assert await harness.budgets.all() == []  # nothing auto-approved, nothing spent


async def test_over_the_daily_budget_approvers_are_asked_and_told_why() -> None:
    harness = FakeHarness()
    # Each on a device of its own: one live request per (profile, device).
    first = await open_at(harness, NOW, guarded(device_id=DAVE_DEVICE_IDS[0]))
    second = await open_at(harness, NOW + timedelta(hours=1), guarded(device_id=DAVE_DEVICE_IDS[1]))
    third_sub = guarded(device_id=DAVE_DEVICE_IDS[2])
    third = await open_at(harness, NOW + timedelta(hours=2), third_sub)

    assert [first.status, second.status] == [RequestStatus.APPROVED, RequestStatus.APPROVED]
    assert third.status is RequestStatus.PENDING
    assert asked_why(harness, third_sub.request_id) == AutoApprovalFacts(
        code=AutoApprovalHeld.OVER_DAILY_BUDGET, limit_count=2, day="2026-11-30"
    )
    # The next day (in Berlin) has a budget of its own.
    fourth = await open_at(harness, TUESDAY, guarded(device_id=DAVE_DEVICE_IDS[3]))
    assert fourth.status is RequestStatus.APPROVED


async def test_a_redelivered_submission_claims_its_slot_once() -> None:
    harness = FakeHarness()
    sub = guarded()
    harness.now = NOW
    app = harness.app()
    await app.on_submitted(envelope(sub))
    await app.on_submitted(envelope(sub))  # redelivered: the record exists

    day = await harness.budgets.load(budget_key("guarded", REQUESTER.email, NOW.date()))
    assert day is not None
    assert day.record.request_ids == [sub.request_id]
    second = await open_at(harness, NOW, guarded(device_id=DAVE_DEVICE_IDS[1]))
    assert second.status is RequestStatus.APPROVED  # the budget still had its second slot


async def test_a_claim_already_listed_is_granted_again_without_writing() -> None:
    harness = FakeHarness()
    sub = guarded()
    key = budget_key("guarded", REQUESTER.email, NOW.date())
    first = claim(BudgetClaim(request_id=sub.request_id, key=key, limit=1), None)
    assert first.write is not None
    await harness.budgets.create(first.write)
    # The submission's redelivery after a crash between the claim and the record.
    record = await open_at(harness, NOW, sub)
    assert record.status is RequestStatus.APPROVED
    day = await harness.budgets.load(key)
    assert day is not None
    assert day.record.request_ids == [sub.request_id]


async def test_the_budget_is_per_requester_and_per_profile() -> None:
    harness = FakeHarness()
    for _ in range(2):
        await open_at(harness, NOW, guarded())
    # Another profile's auto-approval (prod: oncall, no budget) is not counted here.
    oncall_prod = submitted(
        requester=REQUESTER.model_copy(update={"email": "oncall@example.com"}),
        duration_seconds=1800,
    )
    harness.devices = type(harness.devices)(device(owner="oncall@example.com"))
    assert (await open_at(harness, NOW, oncall_prod)).status is RequestStatus.APPROVED
    keys = sorted(v.key for v in await harness.budgets.all())
    assert keys == [budget_key("guarded", REQUESTER.email, NOW.date())]


async def test_requests_auto_approve_does_not_cover_spend_nothing() -> None:
    harness = FakeHarness()
    longer = await open_at(harness, NOW, guarded(duration_seconds=2 * 3600))
    assert longer.status is RequestStatus.PENDING
    assert asked_why(harness, longer.request_id) is None  # not covered: nothing held
    invalid = guarded(device_id="nUNKNOWN")
    rejected = await open_at(harness, NOW, invalid)
    assert rejected.status is RequestStatus.REJECTED
    assert isinstance(harness.publisher.on(Subject.REQUEST_REJECTED)[0][1], RequestRejected)
    assert await harness.budgets.all() == []


def test_the_budget_day_is_the_windows_day_not_utcs() -> None:
    # 23:30 UTC on Monday is 00:30 on Tuesday in Berlin (outside the window, but the
    # day a budget counts on is the zone's): the claim's key names Tuesday.
    late = datetime(2026, 12, 1, 6, 30, tzinfo=UTC)  # Tuesday 07:30 Berlin: outside
    assert machine.budget_claim(guarded(), profiles(), device(), late) is None
    early = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)
    assert machine.budget_claim(guarded(), profiles(), device(), early) is None
    inside = datetime(2026, 12, 1, 7, 30, tzinfo=UTC)  # Tuesday 08:30 Berlin
    found = machine.budget_claim(guarded(), profiles(), device(), inside)
    assert found is not None
    assert found.key.endswith(".2026-12-01")
    assert found.limit == 2


def _active_guarded() -> RequestRecord:
    record = machine.open_request(guarded(), profiles(), device(), NOW).record
    assert record is not None
    assert record.status is RequestStatus.APPROVED
    applied = GrantApplied(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        device_id=record.device_id,
        attribute="custom:guardedAccess",
        value=True,
        expires_at=NOW + timedelta(hours=10),  # still active in the evening
        applied_at=NOW,
    )
    tracked = grant_tracking.track(record, applied).record
    assert tracked is not None
    return tracked


def test_extensions_follow_the_window_too() -> None:
    record = _active_guarded()
    inside = extensions.request(record, extend(record.request_id, 1800), profiles(), NOW)
    assert isinstance(inside.events[0], ExtensionApproved)
    evening = NOW.replace(hour=17, minute=5)  # 18:05 Berlin
    outside = extensions.request(record, extend(record.request_id, 1800), profiles(), evening)
    [asked] = outside.events
    assert isinstance(asked, ApprovalRequested)
    assert asked.extension_id is not None
    assert asked.auto_approval == AutoApprovalFacts(
        code=AutoApprovalHeld.OUTSIDE_HOURS, hours=HOURS
    )
