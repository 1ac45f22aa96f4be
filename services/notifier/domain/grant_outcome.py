"""Wording that depends on how a grant ended or failed (pure): one place for each rule."""

from __future__ import annotations

from services.notifier.domain.formatting import slack_date
from services.notifier.domain.request_view import RequestView


def after_failure(view: RequestView) -> str:
    """What the requester can do about a failed grant: wait and retry, or get it fixed."""
    if view.failure_retryable:
        return (
            "Nothing was granted. Try again in a few minutes; if it keeps failing, "
            "ask an admin, quoting the request id below."
        )
    return (
        "Nothing was granted, and asking again will fail the same way until an admin "
        "fixes the cause: ask one, quoting the request id below."
    )


def access_continues(view: RequestView) -> str | None:
    """The device keeps the attribute under another request's grant, if it does."""
    if view.continues_under is None:
        return None
    until = f" until {slack_date(view.continues_until)}" if view.continues_until else ""
    return (
        f"The device keeps this access{until} under request `{view.continues_under}`, "
        "which holds the same access on it."
    )
