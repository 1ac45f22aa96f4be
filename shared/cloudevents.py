"""CloudEvents 1.0 in binary mode over NATS: `ce-*` headers plus a JSON body.

Pure functions, no I/O: `encode` builds what to publish, `decode` refuses anything
whose headers or body do not validate, with a reason fit for a log line.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Generic, TypeVar

from pydantic import ValidationError

from shared.events import EVENT_TYPES, Event
from shared.ids import is_valid_id, new_id
from shared.subjects import Subject
from shared.tracecontext import TRACEPARENT_HEADER, from_headers

SPECVERSION = "1.0"
CONTENT_TYPE = "application/json"
TYPE_PREFIX = "io.accessbot."
MSG_ID_HEADER = "Nats-Msg-Id"

E = TypeVar("E", bound=Event)


class InvalidEventError(ValueError):
    """A message that is not a valid Accessbot CloudEvent; never retried."""


@dataclass(frozen=True, slots=True)
class CloudEventMeta:
    """The CloudEvents context attributes of one message."""

    id: str
    source: str
    type: str
    time: datetime
    subject: str
    specversion: str = SPECVERSION
    traceparent: str | None = None  # the distributed-tracing extension, when valid


@dataclass(frozen=True, slots=True)
class Envelope(Generic[E]):
    """A decoded event with its CloudEvents context."""

    meta: CloudEventMeta
    event: E


@dataclass(frozen=True, slots=True)
class EncodedMessage:
    """What goes on the wire: subject, headers, body."""

    subject: str
    headers: dict[str, str]
    body: bytes


def ce_type(subject: Subject) -> str:
    """The `ce-type` of events on a subject, e.g. `io.accessbot.access.grant.applied`."""
    return TYPE_PREFIX + subject.value


def encode(
    event: Event,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> EncodedMessage:
    """Build a binary-mode CloudEvent; `Nats-Msg-Id` = `ce-id` so JetStream dedupes.

    `traceparent` (W3C) travels as the distributed-tracing extension `ce-traceparent`.
    """
    return encode_body(
        event.SUBJECT,
        event.request_id,
        event.model_dump_json().encode(),
        source=source,
        event_id=event_id,
        time=time,
        traceparent=traceparent,
    )


def encode_body(
    subject: Subject,
    request_id: str,
    body: bytes,
    *,
    source: str,
    event_id: str | None = None,
    time: datetime | None = None,
    traceparent: str | None = None,
) -> EncodedMessage:
    """`encode` for a body serialised already (an outbox entry: validated when staged)."""
    eid = event_id or new_id()
    moment = (time or datetime.now(UTC)).astimezone(UTC)
    headers = {
        "ce-specversion": SPECVERSION,
        "ce-id": eid,
        "ce-source": source,
        "ce-type": ce_type(subject),
        "ce-time": moment.isoformat().replace("+00:00", "Z"),
        "ce-subject": request_id,
        "content-type": CONTENT_TYPE,
        MSG_ID_HEADER: eid,
    }
    if traceparent is not None:
        headers[TRACEPARENT_HEADER] = traceparent
    return EncodedMessage(subject=subject.value, headers=headers, body=body)


# nats-server stamps it on every direct-get answer, and never on a published message.
# Permissions cannot check a request's reply subject, so any user allowed a direct get
# could have the answer (a copy of a message it stored, headers included) land on an
# ACCESS subject; this header tells such a copy from an event its publisher sent.
STREAM_HEADER = "Nats-Stream"


def _require(headers: Mapping[str, str], name: str) -> str:
    value = headers.get(name)
    if not value:
        raise InvalidEventError(f"missing header {name}")
    return value


def decode(subject: str, headers: Mapping[str, str] | None, body: bytes) -> Envelope[Event]:
    """Validate headers and body against the subject's model, or raise InvalidEventError."""
    try:
        subj = Subject(subject)
    except ValueError:
        raise InvalidEventError(f"unknown subject {subject!r}") from None
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    if STREAM_HEADER.lower() in hdrs:
        raise InvalidEventError(
            f"carries {STREAM_HEADER} {hdrs[STREAM_HEADER.lower()]!r}: a stored message "
            "answered into the stream (a direct get with this subject as its reply), not "
            "a publication"
        )
    specversion = _require(hdrs, "ce-specversion")
    if specversion != SPECVERSION:
        raise InvalidEventError(f"unsupported ce-specversion {specversion!r}")
    eid = _require(hdrs, "ce-id")
    if not is_valid_id(eid):
        raise InvalidEventError(f"ce-id {eid!r} is not a ULID")
    etype = _require(hdrs, "ce-type")
    if etype != ce_type(subj):
        raise InvalidEventError(f"ce-type {etype!r} does not match subject {subject!r}")
    source = _require(hdrs, "ce-source")
    raw_time = _require(hdrs, "ce-time")
    try:
        moment = datetime.fromisoformat(raw_time)
    except ValueError:
        raise InvalidEventError(f"ce-time {raw_time!r} is not RFC 3339") from None
    if moment.tzinfo is None:
        raise InvalidEventError(f"ce-time {raw_time!r} has no offset")
    ce_subject = _require(hdrs, "ce-subject")
    model = EVENT_TYPES[subj]
    try:
        event = model.model_validate_json(body)
    except ValidationError as exc:
        errors = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or '<body>'}: {err['msg']}"
            for err in exc.errors(include_url=False)
        )
        raise InvalidEventError(f"body does not validate as {model.__name__}: {errors}") from None
    if ce_subject != event.request_id:
        raise InvalidEventError(
            f"ce-subject {ce_subject!r} differs from body request_id {event.request_id!r}"
        )
    trace = from_headers(hdrs)  # malformed: ignored, as W3C says, never a rejection
    meta = CloudEventMeta(
        id=eid,
        source=source,
        type=etype,
        time=moment,
        subject=ce_subject,
        traceparent=trace.traceparent if trace is not None else None,
    )
    return Envelope(meta=meta, event=event)


def decode_as(
    model: type[E], subject: str, headers: Mapping[str, str] | None, body: bytes
) -> Envelope[E]:
    """`decode`, and insist on one model (a handler bound to one subject)."""
    envelope = decode(subject, headers, body)
    if not isinstance(envelope.event, model):
        raise InvalidEventError(
            f"expected {model.__name__}, got {type(envelope.event).__name__} on {subject!r}"
        )
    return Envelope(meta=envelope.meta, event=envelope.event)


def to_structured_json(subject: str, headers: Mapping[str, str] | None, body: bytes) -> str:
    """One CloudEvents JSON object (structured mode) for SIEM export; validates first."""
    envelope = decode(subject, headers, body)
    meta = envelope.meta
    doc = {
        "specversion": meta.specversion,
        "id": meta.id,
        "source": meta.source,
        "type": meta.type,
        "time": meta.time.isoformat().replace("+00:00", "Z"),
        "subject": meta.subject,
        "datacontenttype": CONTENT_TYPE,
        "data": envelope.event.model_dump(mode="json"),
    }
    if meta.traceparent is not None:
        doc["traceparent"] = meta.traceparent
    import json

    return json.dumps(doc, separators=(",", ":"), sort_keys=False)
