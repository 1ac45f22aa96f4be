"""Approvals counted before a quorum decides (`access.approval.counted`), as people see them.

With `approvals_required: 2` the first approval decides nothing: the approver's own copy
says it counted (its buttons gone), everyone else's copy and the requester's DM show the
approvals so far, the audit thread records each one, and a request that is then denied or
expires names the approvals it had. Names go through `people` (a long list is clipped).
"""

from __future__ import annotations

from collections.abc import Sequence

from services.notifier.domain.formatting import people
from shared.contracts.events import Person


def tally(approvals: Sequence[Person], required: int | None) -> str:
    """`1 of 2 approvals`."""
    noun = "approval" if (required or 1) == 1 else "approvals"
    return f"{len(approvals)} of {required or 1} {noun}"


def so_far(approvals: Sequence[Person], required: int | None) -> str | None:
    """`:ballot_box_with_check: *1 of 2 approvals* so far: alice.`; None before the first."""
    if not approvals:
        return None
    return f":ballot_box_with_check: *{tally(approvals, required)}* so far: {people(approvals)}."


def had(approvals: Sequence[Person], required: int | None) -> str:
    """`1 of 2 approvals (alice)`, for a request that ended without its quorum."""
    return f"{tally(approvals, required)} ({people(approvals)})"


def counted_for_you(approvals: Sequence[Person], required: int | None) -> str:
    """The approver's own copy once their approval counted, while more are needed."""
    more = max(1, (required or 1) - len(approvals))
    noun = "approval" if more == 1 else "approvals"
    return (
        f":ballot_box_with_check: *Your approval is counted* ({tally(approvals, required)}): "
        f"waiting for {more} more {noun}."
    )


def merged(known: Sequence[Person], news: Sequence[Person]) -> list[Person]:
    """The approvals known, then those `news` adds (each once, by email): events of one
    request may arrive out of order or twice, so the list only grows."""
    seen = {p.email for p in known}
    return [*known, *(p for p in news if p.email not in seen)]
