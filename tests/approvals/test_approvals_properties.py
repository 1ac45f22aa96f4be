"""Properties of the state machine over random profiles and random sequences of inputs.

Whatever the order of decisions, cancellations and timer firings: a request is never
approved without `approvals_required` distinct eligible approvers, never both
approved and denied, and once decided it never changes again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from services.approvals.domain import extensions, grant_tracking, machine
from services.approvals.domain.record import RequestRecord, RequestStatus
from services.approvals.domain.step import Step
from shared.contracts.events import (
    ApprovalMode,
    CancelRequest,
    Decision,
    Event,
    ExtensionApproved,
    ExtensionDenied,
    GrantApplied,
    Person,
    RequestApproved,
    RequestCancelled,
    RequestDenied,
    RequestExpired,
    RequestRejected,
)
from shared.profiles import Approvers, DeviceScope, Profile, ProfilesConfig, SelfApproval
from tests.approvals.factories import NOW, decision, device, extend, submitted

REQUESTER = "req@example.com"
APPROVERS = ("ann@example.com", "ben@example.com", "cat@example.com", REQUESTER)
CLICKERS = (*APPROVERS, "eve@example.com")
TERMINAL_EVENTS = (
    RequestApproved,
    RequestDenied,
    RequestExpired,
    RequestCancelled,
    RequestRejected,
)
TTL = timedelta(hours=1)


@dataclass(frozen=True)
class Click:
    email: str
    choice: Decision


@dataclass(frozen=True)
class Cancel:
    email: str


@dataclass(frozen=True)
class Timer:
    due_offset: int  # seconds after NOW the timer was scheduled for


Op = Click | Cancel | Timer


@st.composite
def configs(draw: st.DrawFn) -> ProfilesConfig:
    emails = draw(st.lists(st.sampled_from(APPROVERS), min_size=1, max_size=4, unique=True))
    profile = Profile(
        id="p",
        description="P",
        attribute="custom:p",
        approvers=Approvers(emails=emails),
        approvals_required=draw(st.integers(1, len(emails))),
        self_approval=draw(st.sampled_from(list(SelfApproval))),
        devices=DeviceScope.ANY,
        require_reason=False,
        request_ttl=TTL,
    )
    return ProfilesConfig(profiles=[profile])


def mixed_case(email: str) -> st.SearchStrategy[str]:
    return st.sampled_from([email, email.upper(), email.capitalize()])


clicks = st.builds(
    Click, st.sampled_from(CLICKERS).flatmap(mixed_case), st.sampled_from(list(Decision))
)
ops = st.lists(
    st.one_of(
        clicks,
        clicks,  # decisions are the common case
        st.builds(Cancel, st.sampled_from(CLICKERS)),
        st.builds(Timer, st.integers(0, 2 * 3600)),
    ),
    max_size=12,
)
gaps = st.lists(st.integers(0, 1200), min_size=12, max_size=12)


def eligible(profile: Profile) -> set[str]:
    """Who may approve, derived from the profile independently of the code under test."""
    listed = {e.lower() for e in profile.approvers.emails}
    if profile.self_approval is SelfApproval.NEVER:
        return listed - {REQUESTER}
    return listed


def apply(record: RequestRecord, op: Op, at_seconds: int, config: ProfilesConfig) -> Step:
    now = NOW + timedelta(seconds=at_seconds)
    rid = record.request_id
    if isinstance(op, Click):
        return machine.decide(record, decision(rid, op.email, op.choice), config, now)
    if isinstance(op, Cancel):
        return machine.cancel(
            record, CancelRequest(request_id=rid, actor=Person(email=op.email)), now
        )
    return machine.expire(record, NOW + timedelta(seconds=op.due_offset), now)


def check_approval(event: RequestApproved, profile: Profile, chosen: str | None) -> None:
    approvers = {p.email.lower() for p in event.approvers}
    if event.mode is ApprovalMode.QUORUM:
        assert len(approvers) == len(event.approvers)  # distinct
        assert len(approvers) >= profile.approvals_required
        assert approvers <= eligible(profile)
    else:
        assert event.mode is ApprovalMode.SELF
        assert profile.self_approval is SelfApproval.ALLOWED
        assert chosen == REQUESTER
        assert REQUESTER in eligible(profile)


@settings(max_examples=150, deadline=None)
@given(
    config=configs(),
    chosen=st.sampled_from([None, *APPROVERS]),
    sequence=ops,
    waits=gaps,
)
def test_request_outcomes_hold_their_invariants(
    config: ProfilesConfig, chosen: str | None, sequence: list[Op], waits: list[int]
) -> None:
    profile = config.profiles[0]
    sub = submitted(
        requester=Person(email=REQUESTER), profile_id="p", approver_email=chosen, device_id="n1"
    )
    opened = machine.open_request(sub, config, device("n1", owner=REQUESTER), NOW)
    assert opened.record is not None
    record = opened.record
    events: list[Event] = list(opened.events)
    elapsed = 0
    for op, wait in zip(sequence, waits, strict=False):
        elapsed += wait
        before = record
        step = apply(record, op, elapsed, config)
        if before.terminal:
            assert step.record is None, "a decided request changed"
            assert step.events == ()
        if step.record is not None:
            record = step.record
        events += step.events
        if step.refusal is not None:
            assert step.record is None or step.events  # a refusal changes nothing by itself
    outcomes = [e for e in events if isinstance(e, TERMINAL_EVENTS)]
    assert len(outcomes) <= 1, f"more than one outcome: {outcomes}"
    kinds = {type(e) for e in outcomes}
    assert not {RequestApproved, RequestDenied} <= kinds
    for event in outcomes:
        if isinstance(event, RequestApproved):
            check_approval(event, profile, chosen)
    if record.status is RequestStatus.PENDING:
        assert outcomes == []
    else:
        assert len(outcomes) == 1
    counted = [v.approver.email.lower() for v in record.votes]
    assert len(counted) == len(set(counted)), "an approver counted twice"
    assert set(counted) <= eligible(profile)


@settings(max_examples=100, deadline=None)
@given(config=configs(), sequence=ops, waits=gaps)
def test_extension_outcomes_hold_their_invariants(
    config: ProfilesConfig, sequence: list[Op], waits: list[int]
) -> None:
    profile = config.profiles[0]
    sub = submitted(requester=Person(email=REQUESTER), profile_id="p", device_id="n1")
    record = machine.open_request(sub, config, device("n1", owner=REQUESTER), NOW).record
    assert record is not None
    # Approved (however) and applied: an active grant for the whole test.
    record = record.model_copy(update={"status": RequestStatus.APPROVED})
    grant = GrantApplied(
        request_id=record.request_id,
        requester=record.requester,
        profile_id="p",
        device_id="n1",
        attribute="custom:p",
        value=True,
        expires_at=NOW + timedelta(days=1),
        applied_at=NOW,
    )
    record = grant_tracking.track(record, grant).record
    assert record is not None
    cmd = extend(record.request_id, 600, email=REQUESTER)
    opened = extensions.request(record, cmd, config, NOW)
    assert opened.record is not None
    record = opened.record
    events: list[Event] = list(opened.events)
    elapsed = 0
    for op, wait in zip(sequence, waits, strict=False):
        elapsed += wait
        now = NOW + timedelta(seconds=elapsed)
        before = record.extensions[cmd.extension_id]
        if isinstance(op, Click):
            click = decision(record.request_id, op.email, op.choice, extension_id=cmd.extension_id)
            step = machine.decide(record, click, config, now)
        elif isinstance(op, Timer):
            step = machine.expire(record, NOW + timedelta(seconds=op.due_offset), now)
        else:
            continue
        if before.status.value != "pending":
            assert step.record is None
            assert step.events == ()
        if step.record is not None:
            record = step.record
        events += step.events
    decided = [e for e in events if isinstance(e, ExtensionApproved | ExtensionDenied)]
    assert len(decided) <= 1
    ext = record.extensions[cmd.extension_id]
    for event in decided:
        if isinstance(event, ExtensionApproved):
            assert ext.mode is ApprovalMode.QUORUM  # nothing instant in these profiles
            approvers = {p.email.lower() for p in event.approvers}
            assert len(approvers) >= profile.approvals_required
            assert approvers <= eligible(profile)
    assert record.status is RequestStatus.APPROVED
