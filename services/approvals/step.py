"""What one input does to a request: the next record, the events it causes, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.approvals.record import RequestRecord
from shared.events import DecisionRefused, Event, Person, RefusalReason

Action = Literal["approve", "deny", "cancel", "extend"]


@dataclass(frozen=True, slots=True)
class Step:
    """The result of applying one input; nothing here has happened yet.

    `record` is None when the state does not change. `events` are stored in the
    record's outbox before they are published. A `refusal` changes no state and is
    published with an id derived from the input's, so a redelivery repeats it harmlessly.
    """

    record: RequestRecord | None = None
    events: tuple[Event, ...] = ()
    refusal: DecisionRefused | None = None
    note: str = ""


def refuse(
    request_id: str,
    actor: Person,
    action: Action,
    code: RefusalReason,
    message: str,
    *,
    extension_id: str | None = None,
) -> Step:
    """A click that does not count, and why (for the clicker)."""
    return Step(
        refusal=DecisionRefused(
            request_id=request_id,
            actor=actor,
            action=action,
            code=code,
            message=message,
            extension_id=extension_id,
        )
    )


def unchanged(note: str) -> Step:
    """Nothing to do (a stale timer, a duplicate); the note goes to the log."""
    return Step(note=note)
