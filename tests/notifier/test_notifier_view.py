"""The request view folds events idempotently and converges whatever their order."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from services.notifier.domain.request_view import ExtensionPhase, Phase, RequestView, fold
from shared.contracts.events import Message
from tests.notifier import notifier_factories as f


def _fold_all(events: list[Message]) -> RequestView:
    view = RequestView(request_id=f.REQUEST_ID)
    for event in events:
        view = fold(view, event)
    return view


def test_phases_follow_the_lifecycle() -> None:
    seen = []
    view = RequestView(request_id=f.REQUEST_ID)
    for event in (f.submitted(), f.approval_requested(), f.approved(), f.applied(), f.revoked()):
        view = fold(view, event)
        seen.append(view.phase)
    assert seen == [Phase.SUBMITTED, Phase.PENDING, Phase.APPROVED, Phase.ACTIVE, Phase.REVOKED]
    assert view.ended_by == f.ALICE
    assert view.grant_expires_at == f.at(125)
    assert view.device == f.DEVICE


def test_folding_an_event_twice_changes_nothing() -> None:
    view = _fold_all([f.submitted(), f.approval_requested(), f.approved()])
    assert fold(view, f.approved()) == view
    assert fold(view, f.approval_requested()) == view


def test_a_late_event_never_moves_the_phase_back() -> None:
    view = _fold_all([f.submitted(), f.applied(), f.approved()])
    assert view.phase is Phase.ACTIVE
    assert view.approved_by == [f.ALICE, f.BOB]  # the late event's facts are still learned


def test_the_first_ending_wins() -> None:
    view = _fold_all([f.submitted(), f.denied(), f.request_expired()])
    assert view.phase is Phase.DENIED
    assert view.ended_at is None


def test_a_failed_extension_keeps_the_grant_active() -> None:
    view = _fold_all(
        [
            f.approved(),
            f.applied(),
            f.extension_requested(),
            f.grant_failed(extension_id=f.EXTENSION_ID),
        ]
    )
    assert view.phase is Phase.ACTIVE
    ext = view.latest_extension
    assert ext is not None
    assert ext.phase is ExtensionPhase.FAILED
    assert view.grant_expires_at == f.at(125)


def test_an_extension_moves_the_expiry_later_only() -> None:
    view = _fold_all([f.applied(), f.extended(), f.applied()])
    assert view.grant_expires_at == f.at(185)


_LIFECYCLE: list[Message] = [
    f.submitted(),
    f.approval_requested(),
    f.approved(),
    f.applied(),
    f.extension_requested(),
    f.extension_approved(),
    f.extended(),
    f.refused(),
    f.grant_expired(),
]


@settings(max_examples=60, deadline=None)
@given(st.permutations(_LIFECYCLE))
def test_any_delivery_order_converges_to_the_same_view(order: list[Message]) -> None:
    assert _fold_all(order) == _fold_all(_LIFECYCLE)
