"""Who may approve, who is asked, and when no human approval is needed."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, timedelta

from shared.contracts.events import (
    ApprovalMode,
    ApproverGroup,
    AutoApprovalFacts,
    AutoApprovalHeld,
    Person,
)
from shared.profiles import AutoApprove, Profile, SelfApproval


def approvers_to_ask(
    eligible: list[str],
    approvals_required: int,
    chosen: str | None,
    requester: Person,
    named: Sequence[Person] = (),
) -> list[Person]:
    """The chosen approver when one suffices and one was chosen, else every eligible one
    (by name and Slack id where the submission named them)."""
    emails = [chosen] if chosen and approvals_required == 1 else eligible
    return [requester if e == requester.email else named_person(e, named) for e in emails]


def named_person(email: str, named: Sequence[Person]) -> Person:
    """The person as the submission named them, else by email alone."""
    return next((p for p in named if p.email == email), None) or Person(email=email)


def instant_mode(
    profile: Profile,
    requester: str,
    chosen: str | None,
    duration: timedelta,
    *,
    auto: bool = True,
) -> ApprovalMode | None:
    """How a request is approved at once without asking anyone, or None to ask.

    `auto=False`: `auto_approve` is held (outside its hours, or its budget spent)."""
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
    if auto and auto_covers(profile, requester, duration):
        return ApprovalMode.AUTO
    return None


def auto_covers(profile: Profile, requester: str, duration: timedelta) -> bool:
    """`auto_approve` lists the requester and allows the duration (hours and budget aside)."""
    auto = profile.auto_approve
    return auto is not None and requester in auto.requesters and duration <= auto.max_duration


def outside_hours(auto: AutoApprove, now: datetime) -> AutoApprovalFacts | None:
    """Why auto-approval is held at `now` by its window, or None inside it (or without one)."""
    window = auto.window()
    if window is None or window.contains(now):
        return None
    return AutoApprovalFacts(code=AutoApprovalHeld.OUTSIDE_HOURS, hours=auto.hours)


def budget_day(auto: AutoApprove, now: datetime) -> date:
    """The day a budget counts on: the calendar date in `hours`' zone, else in UTC."""
    window = auto.window()
    return window.local_date(now) if window is not None else now.astimezone(UTC).date()


def over_budget(auto: AutoApprove, now: datetime) -> AutoApprovalFacts:
    """Why auto-approval is held when the day's budget has no room left."""
    return AutoApprovalFacts(
        code=AutoApprovalHeld.OVER_DAILY_BUDGET,
        limit_count=auto.max_per_day,
        day=budget_day(auto, now).isoformat(),
    )


def group_members(group_ids: list[str], groups: Mapping[str, list[str]]) -> list[ApproverGroup]:
    """Each group's members as resolved when the request was opened, for the messages that
    say who was asked through which group."""
    return [ApproverGroup(group_id=g, members=list(groups.get(g, []))) for g in group_ids]
