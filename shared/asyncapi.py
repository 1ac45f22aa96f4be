"""The AsyncAPI 3.0 document, generated from the event models (never written by hand)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from shared.contracts.cloudevents import CONTENT_TYPE, MSG_ID_HEADER, SPECVERSION, ce_type
from shared.contracts.events import MESSAGE_TYPES, Command
from shared.contracts.examples import EXAMPLES
from shared.contracts.subjects import ACCESS_STREAM, Subject
from shared.permissions import publishers_of

TITLE = "Accessbot events"
VERSION = "1.0.0"
REF = "#/components/schemas/{model}"


def _consumers_of(subject: Subject) -> list[str]:
    from shared.consumers import CONSUMERS

    return sorted({c.service for c in CONSUMERS if c.filter_subject == subject.value})


def _publisher_of(subject: Subject) -> str:
    return " or ".join(publishers_of(subject))


def _headers_schema(subject: Subject) -> dict[str, Any]:
    return {
        "type": "object",
        "description": "CloudEvents 1.0 binary mode over NATS.",
        "required": [
            "ce-specversion",
            "ce-id",
            "ce-source",
            "ce-type",
            "ce-time",
            "ce-subject",
            MSG_ID_HEADER,
        ],
        "properties": {
            "ce-specversion": {"type": "string", "const": SPECVERSION},
            "ce-id": {"type": "string", "description": "Event id (ULID); unique and sortable."},
            "ce-source": {
                "type": "string",
                "description": "The publishing service.",
                "examples": [f"accessbot/{svc}" for svc in publishers_of(subject)],
            },
            "ce-type": {"type": "string", "const": ce_type(subject)},
            "ce-time": {"type": "string", "format": "date-time"},
            "ce-subject": {"type": "string", "description": "The request id."},
            "ce-traceparent": {
                "type": "string",
                "pattern": "^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$",
                "description": "W3C trace context (CloudEvents distributed-tracing extension); "
                "one trace per request, carried by every event it causes.",
            },
            "content-type": {"type": "string", "const": CONTENT_TYPE},
            MSG_ID_HEADER: {
                "type": "string",
                "description": "Equals ce-id: JetStream drops a re-publish within 2 minutes.",
            },
        },
    }


def _message_name(subject: Subject) -> str:
    return MESSAGE_TYPES[subject].__name__


def _kind(subject: Subject) -> str:
    """`command` (asks its consumer to act, may be refused) or `event` (what happened)."""
    return "command" if issubclass(MESSAGE_TYPES[subject], Command) else "event"


def build_document() -> dict[str, Any]:
    """The whole AsyncAPI document as plain data (deterministic)."""
    mode: Literal["validation"] = "validation"
    models: list[tuple[type[BaseModel], Literal["validation"]]] = [
        (m, mode) for m in MESSAGE_TYPES.values()
    ]
    _, top = models_json_schema(models, ref_template=REF)
    schemas: dict[str, Any] = dict(sorted(top.get("$defs", {}).items()))
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    for subject in Subject:
        model = MESSAGE_TYPES[subject]
        name = _message_name(subject)
        key = subject.value.replace(".", "_")
        publisher = _publisher_of(subject)
        publishers = publishers_of(subject)
        messages[name] = {
            "name": name,
            "title": name,
            "summary": (model.__doc__ or "").strip().splitlines()[0],
            "tags": [{"name": _kind(subject)}],
            "contentType": CONTENT_TYPE,
            "headers": _headers_schema(subject),
            "payload": {"$ref": REF.format(model=name)},
            "examples": [
                {
                    "name": f"{name}Example",
                    "payload": EXAMPLES[subject].model_dump(mode="json"),
                }
            ],
        }
        channels[key] = {
            "address": subject.value,
            "description": f"JetStream stream {ACCESS_STREAM}. Published by {publisher}; "
            f"consumed by {', '.join(_consumers_of(subject)) or 'SIEM readers only'}.",
            "messages": {name: {"$ref": f"#/components/messages/{name}"}},
        }
        for sender in publishers:
            operations[f"{sender}_sends_{key}"] = {
                "action": "send",
                "channel": {"$ref": f"#/channels/{key}"},
                "summary": f"{sender} publishes {subject.value}",
                "messages": [{"$ref": f"#/channels/{key}/messages/{name}"}],
            }
        for consumer in _consumers_of(subject):
            operations[f"{consumer}_receives_{key}"] = {
                "action": "receive",
                "channel": {"$ref": f"#/channels/{key}"},
                "summary": f"{consumer} consumes {subject.value} (durable pull consumer)",
                "messages": [{"$ref": f"#/channels/{key}/messages/{name}"}],
            }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": TITLE,
            "version": VERSION,
            "description": "Every message of Accessbot's ACCESS stream: the transport between "
            "services and the audit log a SIEM reads (read-only NATS user `siem`). Messages "
            "tagged `command` (imperative names) ask their consumer to act and may be refused; "
            "those tagged `event` (past tense) say what happened. Generated "
            "from shared/contracts/events.py by `accessbot asyncapi`.",
            "tags": [
                {
                    "name": "command",
                    "description": "Asks the one service that owns the decision to act "
                    "(imperative name); it may refuse. Its subject and ce-type keep their "
                    "first names.",
                },
                {"name": "event", "description": "Says what happened (past-tense name)."},
            ],
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": {
            "nats": {
                "host": "nats:4222",
                "protocol": "nats",
                "description": "NATS with JetStream; stream ACCESS, subjects access.>",
            }
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": schemas},
    }


def render_yaml() -> str:
    """The document as YAML (what `accessbot asyncapi` prints and docs/asyncapi.yaml holds)."""
    import yaml

    header = (
        "# Generated by `accessbot asyncapi` from shared/contracts/events.py; "
        "do not edit by hand.\n"
    )
    return header + yaml.safe_dump(build_document(), sort_keys=False, allow_unicode=True)
