"""Daily auto-approval budgets: one record per (profile, requester, day) in KV `auto_approvals`.

A record lists the request ids that day's budget auto-approved, at most `max_per_day`.
Claiming adds a request id by compare-and-set, so replicas and concurrent submissions
never spend more than the budget; the same request id claims once (a redelivered
submission finds itself listed). Pure: the store and the loop are the caller's.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date

from pydantic import BaseModel, ConfigDict, Field

from shared.persistence.transact import Decision
from shared.persistence.versioned import Versioned
from shared.profiles import AUTO_MAX_PER_DAY_LIMIT

# Requester emails are hashed into the key: KV keys allow neither '@' nor '+'.
_HASH_CHARS = 32


class BudgetRecord(BaseModel):
    """The auto-approvals one requester had of one profile on one day."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    key: str = Field(description="<profile id>.<requester hash>.<YYYY-MM-DD>")
    request_ids: list[str] = Field(default_factory=list, max_length=AUTO_MAX_PER_DAY_LIMIT)


@dataclass(frozen=True, slots=True)
class BudgetClaim:
    """A request asking one day's budget for a slot."""

    request_id: str
    key: str
    limit: int


def budget_key(profile_id: str, requester: str, day: date) -> str:
    """The record's key (profile ids are slugs; the email is hashed; the day is ISO)."""
    digest = hashlib.sha256(requester.encode()).hexdigest()[:_HASH_CHARS]
    return f"{profile_id}.{digest}.{day.isoformat()}"


def claim(
    claimed: BudgetClaim, stored: Versioned[BudgetRecord] | None
) -> Decision[BudgetRecord, bool]:
    """Add the request to the day's record if there is room: outcome True when it is
    listed (now or before), False when the budget is spent."""
    ids = stored.record.request_ids if stored is not None else []
    if claimed.request_id in ids:
        return Decision(None, outcome=True)
    if len(ids) >= claimed.limit:
        return Decision(None, outcome=False)
    spent = BudgetRecord(key=claimed.key, request_ids=[*ids, claimed.request_id])
    return Decision(spent, outcome=True)
