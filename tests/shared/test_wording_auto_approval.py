"""The audit channel's words for an auto-approval that was held: counted in plain English."""

from __future__ import annotations

from shared.contracts.events import AutoApprovalFacts, AutoApprovalHeld
from shared.wording import auto_approval_text

OVER = AutoApprovalHeld.OVER_DAILY_BUDGET


def test_a_budget_of_one_is_counted_in_the_singular() -> None:
    text = auto_approval_text(AutoApprovalFacts(code=OVER, limit_count=1, day="2026-12-05"))
    assert text == (
        "Not auto-approved: the requester already had 1 auto-approval of this profile "
        "on 2026-12-05 (the daily limit)."
    )


def test_a_larger_budget_in_the_plural_and_missing_facts_still_read() -> None:
    many = auto_approval_text(AutoApprovalFacts(code=OVER, limit_count=3, day="2026-12-05"))
    assert "already had 3 auto-approvals of this profile" in many
    unknown = auto_approval_text(AutoApprovalFacts(code=OVER))
    assert unknown == (
        "Not auto-approved: the requester already had ? auto-approvals of this profile "
        "on this day (the daily limit)."
    )
    assert "(s)" not in many + unknown
