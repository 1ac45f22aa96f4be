"""Who may approve, who is asked, and when no human approval is needed."""

from __future__ import annotations

from datetime import timedelta

from shared.contracts.events import ApprovalMode, Person
from shared.profiles import Profile, SelfApproval


def approvers_to_ask(
    eligible: list[str], approvals_required: int, chosen: str | None, requester: Person
) -> list[Person]:
    """The chosen approver when one suffices and one was chosen, else every eligible one."""
    emails = [chosen] if chosen and approvals_required == 1 else eligible
    return [requester if e == requester.email else Person(email=e) for e in emails]


def instant_mode(
    profile: Profile, requester: str, chosen: str | None, duration: timedelta
) -> ApprovalMode | None:
    """How a request is approved at once without asking anyone, or None to ask."""
    if profile.break_glass:
        return ApprovalMode.BREAK_GLASS
    # Choosing oneself stands for one approval only: with a quorum the requester's own
    # approval counts once among the others (never trust a chosen approver intake omits).
    if (
        profile.approvals_required == 1
        and profile.self_approval is SelfApproval.ALLOWED
        and chosen is not None
        and chosen == requester
        and profile.may_decide(requester, requester=requester)
    ):
        return ApprovalMode.SELF
    auto = profile.auto_approve
    if auto is not None and requester in auto.requesters and duration <= auto.max_duration:
        return ApprovalMode.AUTO
    return None
