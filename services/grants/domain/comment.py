"""The comment that goes with an attribute change into Tailscale's audit log.

At most 200 characters (Tailscale's limit). It names the request, the requester,
the approvers and the reason; when it does not fit, the reason is shortened
first, then the approver list, and a final cut never leaves half a character
sequence (a dangling combining mark or a lone surrogate) or control characters.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence

MAX_COMMENT_CHARS = 200
ELLIPSIS = "…"


def clean(text: str) -> str:
    """One line of printable text: control characters and runs of whitespace become a space."""
    printable = "".join(
        " " if unicodedata.category(ch) in ("Cc", "Cf", "Cs", "Zl", "Zp") else ch for ch in text
    )
    return " ".join(printable.split())


def truncate(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, ending in an ellipsis when cut."""
    if len(text) <= limit:
        return text
    if limit <= 0:
        return ""
    end = limit - 1
    # A combining mark right after the cut belongs to the last kept character: drop both.
    while end > 0 and unicodedata.combining(text[end]):
        end -= 1
    return text[:end].rstrip() + ELLIPSIS


def _people(emails: Sequence[str], limit: int) -> str:
    """`a, b +2 more`, as many names as fit in `limit` characters."""
    if not emails:
        return "nobody (auto-approved)"
    for shown in range(len(emails), 0, -1):
        text = ", ".join(emails[:shown])
        if shown < len(emails):
            text += f" +{len(emails) - shown} more"
        if len(text) <= limit:
            return text
    return truncate(f"{emails[0]} +{len(emails) - 1} more", limit)


def _fit(head: str, approvers: Sequence[str], reason: str, *, verb: str) -> str:
    head = clean(head)
    emails = [clean(a) for a in approvers]
    reason = clean(reason)
    budget = MAX_COMMENT_CHARS - len(head) - len(f"; {verb} ")
    who = _people(emails, max(budget - len("; reason: ") - 12, 20))
    text = f"{head}; {verb} {who}"
    if reason:
        room = MAX_COMMENT_CHARS - len(text) - len("; reason: ")
        if room >= 8:
            text += f"; reason: {truncate(reason, room)}"
    return truncate(text, MAX_COMMENT_CHARS)


def grant_comment(*, request_id: str, requester: str, approvers: Sequence[str], reason: str) -> str:
    """Comment for a new grant."""
    return _fit(
        f"Accessbot {request_id}: requested by {requester}",
        approvers,
        reason,
        verb="approved by",
    )


def extension_comment(
    *, request_id: str, requester: str, added: str, approvers: Sequence[str]
) -> str:
    """Comment for an extension (`added` is a duration such as `1h`)."""
    return _fit(
        f"Accessbot {request_id}: extended {added} for {requester}",
        approvers,
        "",
        verb="approved by",
    )
