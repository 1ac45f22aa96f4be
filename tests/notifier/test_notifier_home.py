"""The App Home tab: the view (golden JSON: empty, busy, capped), its bounds, the index."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest

from services.notifier.domain.context import NotifyContext
from services.notifier.domain.home import MAX_ITEMS, home_view
from services.notifier.domain.home_index import (
    MAX_HOME_REQUESTS,
    HomeIndex,
    home_key,
    touched,
)
from services.notifier.domain.request_view import RequestView, fold
from shared.contracts.events import Message
from shared.slack_ids import ActionId, BlockId, ButtonValue
from shared.slack_limits import HOME_BLOCKS
from tests.notifier import notifier_factories as f

OTHER = "01JDQ3F8ZK6W2M9V1T4B7N5C1A"
THIRD = "01JDQ3F8ZK6W2M9V1T4B7N5C2B"


def ctx(_view: RequestView) -> NotifyContext:
    return NotifyContext(admin_url=f.ADMIN_URL)


def folded(request_id: str, events: Sequence[Message]) -> RequestView:
    view = RequestView(request_id=request_id)
    for event in events:
        view = fold(view, event.model_copy(update={"request_id": request_id}))
    return view


def active(request_id: str = f.REQUEST_ID) -> RequestView:
    return folded(request_id, [f.submitted(), f.approval_requested(), f.approved(), f.applied()])


def pending(request_id: str = OTHER) -> RequestView:
    return folded(request_id, [f.submitted(), f.approval_requested()])


def ended(request_id: str = THIRD) -> RequestView:
    return folded(request_id, [f.submitted(), f.approval_requested(), f.request_expired()])


def blocks_of(home: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    return [b for b in home["blocks"] if b["block_id"].startswith(prefix)]


def buttons(home: dict[str, Any], prefix: str) -> list[tuple[str, str]]:
    return [
        (e["action_id"], e["value"])
        for b in blocks_of(home, prefix)
        if b["type"] == "actions"
        for e in b["elements"]
    ]


def test_an_empty_home_says_so_and_offers_the_form() -> None:
    home = home_view(f.DAVE.email, [], ctx).as_json()
    f.assert_golden("home_empty", home)
    assert home["type"] == "home"
    top = home["blocks"][0]
    assert top["accessory"]["action_id"] == ActionId.HOME_REQUEST.value
    assert len(blocks_of(home, BlockId.HOME_ACTIVE.value)) == 2  # header, "nothing"


def test_the_requester_sees_active_pending_and_history_with_the_dms_buttons() -> None:
    views = [active(), pending(), ended()]
    home = home_view(f.DAVE.email, views, ctx).as_json()
    f.assert_golden("home_busy_requester", home)
    rid = f.REQUEST_ID
    assert buttons(home, BlockId.HOME_ACTIVE.value) == [
        (ActionId.EXTEND.value, ButtonValue(rid, profile_id=f.PROFILE).encode()),
        (ActionId.REVOKE.value, ButtonValue(rid).encode()),
    ]
    assert buttons(home, BlockId.HOME_PENDING.value) == [
        (ActionId.CANCEL.value, ButtonValue(OTHER).encode())
    ]
    ((again, _),) = buttons(home, BlockId.HOME_HISTORY.value)
    assert again == ActionId.REQUEST_AGAIN.value
    assert buttons(home, BlockId.HOME_DECIDE.value) == []


def test_an_approver_sees_what_waits_for_them_until_they_decided() -> None:
    home = home_view(f.ALICE.email, [active(), pending()], ctx).as_json()
    f.assert_golden("home_busy_approver", home)
    assert buttons(home, BlockId.HOME_DECIDE.value) == [
        (ActionId.APPROVE.value, ButtonValue(OTHER).encode()),
        (ActionId.DENY.value, ButtonValue(OTHER).encode()),
    ]
    assert buttons(home, BlockId.HOME_ACTIVE.value) == []  # Dave's access, not Alice's


def test_a_pending_extension_waits_for_its_approvers() -> None:
    view = folded(
        f.REQUEST_ID,
        [f.submitted(), f.approval_requested(), f.approved(), f.applied(), f.extension_requested()],
    )
    home = home_view(f.ALICE.email, [view], ctx).as_json()
    approve = ButtonValue(f.REQUEST_ID, extension_id=f.EXTENSION_ID).encode()
    assert (ActionId.APPROVE.value, approve) in buttons(home, BlockId.HOME_DECIDE.value)


def test_each_section_is_capped_and_the_whole_stays_within_a_hundred_blocks() -> None:
    # 50 requests of each kind, and 50 more waiting for the approver's decision
    many: list[RequestView] = []
    for n in range(50):
        for letter, build in (("A", active), ("B", pending), ("C", ended)):
            many.append(build(f"01JDQ3F8ZK6W2M9V1T4{letter}{n:06d}"))
    asked = [
        folded(f"01JDQ3F8ZK6W2M9V1T4D{n:06d}", [f.submitted(), f.approval_requested()])
        for n in range(50)
    ]
    home = home_view(f.DAVE.email, many, ctx).as_json()
    assert len(home["blocks"]) <= HOME_BLOCKS
    for section in (BlockId.HOME_ACTIVE, BlockId.HOME_PENDING, BlockId.HOME_HISTORY):
        shown = [b for b in blocks_of(home, section.value) if b["type"] == "section"]
        assert len(shown) == MAX_ITEMS
        (more,) = blocks_of(home, f"{section.value}:more")
        assert more["elements"][0]["text"] == f"…and {50 - MAX_ITEMS} more."
    approver = home_view(f.ALICE.email, [*many, *asked], ctx).as_json()
    assert len(approver["blocks"]) <= HOME_BLOCKS
    f.assert_golden("home_capped", approver)


def test_the_index_keeps_the_newest_requests_only() -> None:
    index = HomeIndex(key=home_key(f.DAVE.email))
    ids = [f"01JDQ3F8ZK6W2M9V1T4B{n:06d}" for n in range(MAX_HOME_REQUESTS + 10)]
    for rid in ids:
        index = index.with_request(rid)
    assert index.request_ids == ids[-MAX_HOME_REQUESTS:]
    assert index.with_request(ids[-1]) is index  # known: unchanged, nothing to write
    assert home_key(f.DAVE.email).startswith("home.")
    assert "@" not in home_key(f.DAVE.email)


@pytest.mark.parametrize(
    ("view", "emails"),
    [
        (pending(), {f.DAVE.email, f.ALICE.email, f.BOB.email}),
        (folded(OTHER, [f.submitted(), f.denied()]), {f.DAVE.email, f.BOB.email}),
    ],
)
def test_everyone_a_request_names_is_touched_once(view: RequestView, emails: set[str]) -> None:
    people = touched(view)
    assert {p.email for p in people} == emails
    assert len(people) == len(emails)
