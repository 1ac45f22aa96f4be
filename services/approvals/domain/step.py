"""What one input does to a request: the next record, the events it causes, or a refusal."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from services.approvals.domain.record import RequestRecord
from shared.contracts.events import DecisionRefused, Event, Person, RefusalFacts, RefusalReason
from shared.wording import refusal_text

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
    facts: RefusalFacts,
    *,
    extension_id: str | None = None,
) -> Step:
    """A click that does not count, and why: facts for the notifier to word (`message`
    keeps the English sentence for SIEM readers of older versions)."""
    about_extension = extension_id is not None
    return Step(
        refusal=DecisionRefused(
            request_id=request_id,
            actor=actor,
            action=action,
            code=code,
            message=refusal_text(facts, action, about_extension=about_extension),
            extension_id=extension_id,
            facts=facts,
        )
    )


def unchanged(note: str) -> Step:
    """Nothing to do (a stale timer, a duplicate); the note goes to the log."""
    return Step(note=note)
