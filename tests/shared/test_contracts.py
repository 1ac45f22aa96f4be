"""Every contract round-trips through JetStream as a binary-mode CloudEvent."""

from __future__ import annotations

import json

import pytest
from nats.js import JetStreamContext

from shared.contracts.cloudevents import InvalidEventError, ce_type, decode, encode
from shared.contracts.events import MESSAGE_TYPES, SubmitRequest
from shared.contracts.examples import EXAMPLES
from shared.contracts.subjects import Subject
from shared.ids import is_valid_id
from shared.publishing import EventPublisher


def test_every_subject_has_exactly_one_model_and_example() -> None:
    assert set(MESSAGE_TYPES) == set(Subject)
    assert len(set(MESSAGE_TYPES.values())) == len(Subject)
    assert set(EXAMPLES) == set(Subject)


@pytest.mark.parametrize("model", list(MESSAGE_TYPES.values()), ids=lambda m: m.__name__)
def test_every_field_is_described_and_versioned(model: type) -> None:
    schema = model.model_json_schema()  # type: ignore[attr-defined]
    assert schema["properties"]["schema_version"]["const"] == 1
    assert "request_id" in schema["required"]
    undocumented = [
        name
        for name, prop in schema["properties"].items()
        if "description" not in prop and "$ref" not in prop and "allOf" not in prop
    ]
    assert undocumented == []


async def test_every_contract_round_trips_through_jetstream(admin_js: JetStreamContext) -> None:
    publisher = EventPublisher(admin_js, source="test/contracts")
    sent = {}
    for subject, event in EXAMPLES.items():
        ack = await publisher.publish(event)
        assert not ack.duplicate
        sent[subject] = event
    sub = await admin_js.pull_subscribe("access.>", stream="ACCESS")
    msgs = await sub.fetch(len(sent), timeout=5)
    assert len(msgs) == len(sent)
    for msg in msgs:
        headers = msg.headers or {}
        assert headers["ce-specversion"] == "1.0"
        assert headers["ce-source"] == "test/contracts"
        assert headers["ce-type"] == ce_type(Subject(msg.subject))
        assert headers["Nats-Msg-Id"] == headers["ce-id"]
        assert is_valid_id(headers["ce-id"])
        envelope = decode(msg.subject, headers, msg.data)
        assert envelope.event == sent[Subject(msg.subject)]
        assert envelope.meta.subject == envelope.event.request_id


def _valid() -> tuple[str, dict[str, str], bytes]:
    msg = encode(EXAMPLES[Subject.REQUEST_SUBMITTED], source="t")
    return msg.subject, msg.headers, msg.body


@pytest.mark.parametrize(
    ("mutate", "reason"),
    [
        (
            lambda s, h, b: (s, {k: v for k, v in h.items() if k != "ce-id"}, b),
            "missing header ce-id",
        ),
        (lambda s, h, b: (s, {**h, "ce-specversion": "0.3"}, b), "ce-specversion"),
        (lambda s, h, b: (s, {**h, "ce-type": "io.accessbot.access.grant.applied"}, b), "ce-type"),
        (lambda s, h, b: (s, {**h, "ce-time": "yesterday"}, b), "ce-time"),
        (lambda s, h, b: (s, {**h, "ce-id": "not-a-ulid"}, b), "not a ULID"),
        (lambda s, h, b: (s, {**h, "ce-subject": "01JDQ3F8ZK6W2M9V1T4B7N5C0Y"}, b), "ce-subject"),
        (lambda s, h, b: ("access.nope", h, b), "unknown subject"),
        (lambda s, h, b: (s, h, b"{not json"), "does not validate"),
        (
            lambda s, h, b: (s, h, json.dumps({**json.loads(b), "duration_seconds": -1}).encode()),
            "duration_seconds",
        ),
        (
            lambda s, h, b: (s, h, json.dumps({**json.loads(b), "extra": 1}).encode()),
            "extra",
        ),
        (
            lambda s, h, b: (s, h, json.dumps({**json.loads(b), "schema_version": 2}).encode()),
            "schema_version",
        ),
    ],
)
def test_decode_refuses_invalid_messages_with_a_reason(mutate, reason: str) -> None:
    subject, headers, body = mutate(*_valid())
    with pytest.raises(InvalidEventError, match=reason):
        decode(subject, headers, body)


def test_decode_accepts_valid_message() -> None:
    envelope = decode(*_valid())
    assert isinstance(envelope.event, SubmitRequest)
