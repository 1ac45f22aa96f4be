"""Commands are imperative `Command`s, events past-tense `Event`s, and the wire never moved.

SIEM rules match on subjects and CloudEvents types, so renaming a model must not change
either: the table below is the wire as it was before the commands were renamed.
"""

from __future__ import annotations

import re

import pytest

from shared.asyncapi import build_document
from shared.contracts.cloudevents import ce_type, encode
from shared.contracts.events import COMMAND_TYPES, EVENT_TYPES, MESSAGE_TYPES, Command, Event
from shared.contracts.examples import EXAMPLES
from shared.contracts.subjects import Subject

WIRE: dict[str, str] = {
    "access.request.submitted": "SubmitRequest",
    "access.decision.submitted": "DecideRequest",
    "access.revoke.requested": "RevokeGrant",
    "access.extend.submitted": "ExtendGrant",
    "access.cancel.requested": "CancelRequest",
    "access.home.requested": "PublishHome",  # added with the App Home (issue 15)
    "access.approval.requested": "ApprovalRequested",
    "access.approval.reminded": "ApprovalReminded",  # added with reminders (issue 15)
    "access.approval.escalated": "ApprovalEscalated",  # added with escalation (issue 15)
    "access.approval.counted": "ApprovalCounted",  # added with visible quorum votes
    "access.request.approved": "RequestApproved",
    "access.request.denied": "RequestDenied",
    "access.request.expired": "RequestExpired",
    "access.request.cancelled": "RequestCancelled",
    "access.request.rejected": "RequestRejected",
    "access.decision.refused": "DecisionRefused",
    "access.extension.approved": "ExtensionApproved",
    "access.extension.denied": "ExtensionDenied",
    "access.grant.applied": "GrantApplied",
    "access.grant.failed": "GrantFailed",
    "access.grant.extended": "GrantExtended",
    "access.grant.revoked": "GrantRevoked",
    "access.grant.expired": "GrantExpired",
    "access.revoke.refused": "RevokeRefused",
    "access.delivery.deadlettered": "DeliveryDeadLettered",
}
"""Subject on the wire -> the model that carries it."""

IMPERATIVE_VERBS = ("Submit", "Decide", "Revoke", "Extend", "Cancel", "Publish")
PAST_TENSE = re.compile(r"^(?:[A-Z][a-z]+)+(?:ed|Lettered)$")


def test_the_wire_subjects_and_types_did_not_change() -> None:
    assert {subject.value: model.__name__ for subject, model in MESSAGE_TYPES.items()} == WIRE
    for subject_text in WIRE:
        encoded = encode(EXAMPLES[Subject(subject_text)], source="t")
        assert encoded.subject == subject_text
        assert encoded.headers["ce-type"] == f"io.accessbot.{subject_text}"
        assert ce_type(Subject(subject_text)) == f"io.accessbot.{subject_text}"


@pytest.mark.parametrize("model", list(COMMAND_TYPES.values()), ids=lambda m: m.__name__)
def test_every_command_is_a_command_with_an_imperative_name(model: type[Command]) -> None:
    assert Command in model.__mro__
    assert Event not in model.__mro__
    assert model.__name__.startswith(IMPERATIVE_VERBS)
    assert not PAST_TENSE.match(model.__name__)


@pytest.mark.parametrize("model", list(EVENT_TYPES.values()), ids=lambda m: m.__name__)
def test_every_event_is_an_event_with_a_past_tense_name(model: type[Event]) -> None:
    assert Event in model.__mro__
    assert Command not in model.__mro__
    assert PAST_TENSE.match(model.__name__)


def test_commands_and_events_split_the_stream_between_them() -> None:
    assert set(COMMAND_TYPES).isdisjoint(EVENT_TYPES)
    assert set(COMMAND_TYPES) | set(EVENT_TYPES) == set(Subject)


def test_asyncapi_shows_commands_as_commands() -> None:
    messages = build_document()["components"]["messages"]
    kinds = {name: [tag["name"] for tag in m["tags"]] for name, m in messages.items()}
    assert {name for name, tags in kinds.items() if tags == ["command"]} == {
        model.__name__ for model in COMMAND_TYPES.values()
    }
    assert {name for name, tags in kinds.items() if tags == ["event"]} == {
        model.__name__ for model in EVENT_TYPES.values()
    }
