"""One device, one profile, one grant (issue 15, item 6): approvals refuses a second request
for a (profile, device) a live request holds, whatever the form showed, and keeps the claim
intake reads in step with the holding request.

Handlers on in-memory ports; the race between replicas on a real nats-server is in
test_approvals_app.py.
"""

from __future__ import annotations

from datetime import timedelta

from services.approvals.domain import pairs
from services.approvals.domain.record import RequestRecord, RequestStatus
from shared.contracts.events import (
    Decision,
    GrantApplied,
    GrantExpired,
    GrantExtended,
    RequestRejected,
    RuleWording,
    SubmitRequest,
)
from shared.contracts.subjects import Subject
from shared.device_claims import ClaimState, DeviceClaim, claim_key
from shared.ids import new_id
from shared.persistence.versioned import Versioned
from tests.approvals.factories import DAVE_DEVICE_IDS, NOW, REQUESTER, decision, submitted
from tests.approvals.fakes import FakeHarness, envelope

DEVICE = DAVE_DEVICE_IDS[0]
KEY = claim_key("prod", DEVICE)


async def open_request(harness: FakeHarness, sub: SubmitRequest) -> RequestRecord:
    await harness.app().on_submitted(envelope(sub))
    stored = await harness.store.load(sub.request_id)
    assert stored is not None
    return stored.record


async def claim(harness: FakeHarness) -> DeviceClaim:
    stored = await harness.claims.load(KEY)
    assert stored is not None
    return stored.record


def rejection(harness: FakeHarness, request_id: str) -> tuple[RuleWording, str | None]:
    [event] = [
        e for _, e in harness.publisher.on(Subject.REQUEST_REJECTED) if e.request_id == request_id
    ]
    assert isinstance(event, RequestRejected)
    [problem] = event.problems
    assert problem.field == "device"
    assert problem.facts is not None
    return problem.facts.wording, problem.facts.value


def applied(record: RequestRecord, hours: int = 2) -> GrantApplied:
    return GrantApplied(
        request_id=record.request_id,
        requester=record.requester,
        profile_id=record.profile_id,
        device_id=record.device_id,
        attribute="custom:prodAccess",
        value=True,
        expires_at=NOW + timedelta(hours=hours),
        applied_at=NOW,
    )


async def test_a_second_request_for_a_live_pair_is_rejected_pointing_to_the_first() -> None:
    harness = FakeHarness()
    first = await open_request(harness, submitted(device_id=DEVICE))
    assert first.status is RequestStatus.PENDING
    assert (await claim(harness)).state is ClaimState.PENDING
    assert (await claim(harness)).until == first.expires_at

    # Pending: asked for already.
    again = await open_request(harness, submitted(device_id=DEVICE))
    assert again.status is RequestStatus.REJECTED
    assert rejection(harness, again.request_id) == (
        RuleWording.ALREADY_REQUESTED,
        first.request_id,
    )

    # Approved, then applied: active, with its end; a second request points to Extend.
    await harness.app().on_decision(envelope(decision(first.request_id, "alice@example.com")))
    assert (await claim(harness)).state is ClaimState.APPROVED
    await harness.app().on_grant(envelope(applied(first)))
    active = await claim(harness)
    assert (active.state, active.until) == (ClaimState.ACTIVE, NOW + timedelta(hours=2))
    third = await open_request(harness, submitted(device_id=DEVICE))
    assert rejection(harness, third.request_id) == (RuleWording.ALREADY_ACTIVE, first.request_id)
    assert harness.publisher.on(Subject.APPROVAL_REQUESTED)[1:] == []  # nobody asked twice

    # Another device, or another profile on this device, is another pair.
    other = await open_request(harness, submitted(device_id=DAVE_DEVICE_IDS[1]))
    assert other.status is RequestStatus.PENDING
    staging = await open_request(harness, submitted(device_id=DEVICE, profile_id="prod-db"))
    assert staging.status is RequestStatus.PENDING


async def test_the_claim_follows_extensions_and_ends_with_the_grant() -> None:
    harness = FakeHarness()
    first = await open_request(harness, submitted(device_id=DEVICE))
    await harness.app().on_decision(envelope(decision(first.request_id, "alice@example.com")))
    await harness.app().on_grant(envelope(applied(first)))
    extended = GrantExtended(
        request_id=first.request_id,
        requester=first.requester,
        profile_id="prod",
        device_id=DEVICE,
        attribute="custom:prodAccess",
        extension_id=new_id(),
        expires_at=NOW + timedelta(hours=5),
        previous_expires_at=NOW + timedelta(hours=2),
    )
    await harness.app().on_grant(envelope(extended))
    assert (await claim(harness)).until == NOW + timedelta(hours=5)

    ended = GrantExpired(
        request_id=first.request_id,
        requester=first.requester,
        profile_id="prod",
        device_id=DEVICE,
        attribute="custom:prodAccess",
        expired_at=NOW + timedelta(hours=5),
    )
    await harness.app().on_grant(envelope(ended))
    assert (await claim(harness)).state is ClaimState.ENDED

    # Over: the pair is free for a new request, which takes it.
    harness.now = NOW + timedelta(hours=6)
    second = await open_request(harness, submitted(device_id=DEVICE))
    assert second.status is RequestStatus.PENDING
    assert (await claim(harness)).request_id == second.request_id


async def test_a_denied_request_frees_its_pair_and_a_redelivery_keeps_its_own() -> None:
    harness = FakeHarness()
    sub = submitted(device_id=DEVICE)
    first = await open_request(harness, sub)
    await harness.app().on_submitted(envelope(sub))  # redelivered: still its own pair
    assert (await open_request(harness, sub)).status is RequestStatus.PENDING
    await harness.app().on_decision(
        envelope(decision(first.request_id, "bob@example.com", Decision.DENY))
    )
    assert (await claim(harness)).state is ClaimState.ENDED
    assert (
        await open_request(harness, submitted(device_id=DEVICE))
    ).status is RequestStatus.PENDING


async def test_a_claim_whose_request_is_not_written_yet_holds_until_its_end() -> None:
    """Another replica took the pair and has not opened its request yet."""
    harness = FakeHarness()
    taking = submitted(device_id=DEVICE)
    await harness.claims.create(pairs.opening_claim(taking, NOW + timedelta(hours=1)))
    racing = await open_request(harness, submitted(device_id=DEVICE))
    assert rejection(harness, racing.request_id) == (
        RuleWording.ALREADY_REQUESTED,
        taking.request_id,
    )
    harness.now = NOW + timedelta(hours=2)  # it never came (its TTL is over): free again
    assert (await open_request(harness, submitted(device_id=DEVICE))).status is (
        RequestStatus.PENDING
    )


def test_a_claim_is_never_followed_backwards() -> None:
    record = RequestRecord(
        request_id=submitted().request_id,
        status=RequestStatus.APPROVED,
        profile_id="prod",
        requester=REQUESTER,
        device_id=DEVICE,
        duration_seconds=3600,
        reason="r",
        submitted_at=NOW,
        created_at=NOW,
    )
    newer = pairs.claim_of(record, revision=7)
    assert newer is not None
    stored = Versioned(key=KEY, record=newer, revision=3)
    pending = record.model_copy(update={"status": RequestStatus.PENDING})
    assert (
        pairs.follow(Versioned(key=record.request_id, record=pending, revision=5), stored).write
        is None
    )
    # This very request's later revision, changing nothing people see: nothing written.
    later = Versioned(key=record.request_id, record=record, revision=9)
    assert pairs.follow(later, stored).write is None
    # A later revision that does change it is written.
    over = record.model_copy(update={"status": RequestStatus.DENIED})
    ended = pairs.follow(Versioned(key=record.request_id, record=over, revision=9), stored).write
    assert ended is not None
    assert (ended.state, ended.record_revision) == (ClaimState.ENDED, 9)
    # Another request's claim is never touched.
    other = newer.model_copy(update={"request_id": submitted().request_id})
    assert pairs.follow(later, Versioned(key=KEY, record=other, revision=1)).write is None
