"""Dead letters: what is kept about a message a consumer gave up on, and how a replay
carries it back. Pure (no NATS client): `shared.deadlettering` does the I/O.

A dead letter is keyed by (consumer, stream sequence). Its history lives on one subject
of the DEADLETTER stream, `deadletter.record.<consumer>.<seq>`: a record, then the same
record marked replayed, then (if the replay failed too) a record of the next generation.
The last message on the subject is the current state.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from shared.contracts.subjects import request_id_from_timer_subject
from shared.ids import is_valid_id

LAST_ERROR_MAX_CHARS = 2000
ELLIPSIS = "…"

# Headers of a replay message (the original's own headers travel beside them).
ORIGINAL_SUBJECT_HEADER = "Accessbot-Original-Subject"
ORIGINAL_SCHEDULER_HEADER = "Accessbot-Original-Scheduler"
DEADLETTER_CONSUMER_HEADER = "Accessbot-Deadletter-Consumer"
DEADLETTER_STREAM_HEADER = "Accessbot-Deadletter-Stream"
DEADLETTER_SEQUENCE_HEADER = "Accessbot-Deadletter-Sequence"
DEADLETTER_GENERATION_HEADER = "Accessbot-Deadletter-Generation"
# The DEADLETTER sequence of the "replayed" mark: a failed replay is recorded only on top
# of it (JetStream's expected-last-subject-sequence), so two recorders cannot both win.
DEADLETTER_MARK_HEADER = "Accessbot-Deadletter-Mark"
_SERVER_SET = "nats-"  # Nats-* headers are the server's; a copy must not carry them
_SCHEDULER = "nats-scheduler"

Source = Literal["handler", "advisory"]


class OriginalMessage(BaseModel):
    """The dead-lettered message exactly as it was stored, so nothing is lost."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    subject: str = Field(description="Its subject.")
    headers: dict[str, str] = Field(description="Its headers.")
    body_base64: str = Field(description="Its body, base64.")

    @property
    def body(self) -> bytes:
        """The body as bytes."""
        return base64.b64decode(self.body_base64)

    @classmethod
    def of(cls, subject: str, headers: Mapping[str, str] | None, body: bytes) -> OriginalMessage:
        """Keep a message as it came."""
        return cls(
            subject=subject,
            headers=dict(headers or {}),
            body_base64=base64.b64encode(body).decode(),
        )


class DeadLetterRecord(BaseModel):
    """One message one consumer failed to handle on every allowed delivery."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = Field(default=1, description="Version of this record.")
    service: str = Field(description="The service owning the consumer.")
    consumer: str = Field(description="The durable consumer that gave up.")
    stream: str = Field(description="The stream the message is in.")
    stream_sequence: int = Field(description="Its sequence in that stream.", gt=0)
    subject: str = Field(description="Its subject.")
    event_id: str | None = Field(default=None, description="Its ce-id, if an event.")
    request_id: str | None = Field(default=None, description="The request it is about.")
    profile_id: str | None = Field(default=None, description="The request's profile, if named.")
    deliveries: int = Field(description="Deliveries before the consumer gave up.", ge=0)
    last_error: str = Field(description="The last error (clipped).")
    source: Source = Field(description="handler: its last attempt; advisory: JetStream's.")
    recorded_at: AwareDatetime = Field(description="When it was recorded.")
    generation: int = Field(default=0, description="How many replays came before it.", ge=0)
    message: OriginalMessage | None = Field(
        default=None, description="The message itself (absent if it had left the stream)."
    )
    replayed_at: AwareDatetime | None = Field(default=None, description="When it was replayed.")

    @property
    def replayed(self) -> bool:
        """True once the admin re-delivered it (and it has not failed again since)."""
        return self.replayed_at is not None

    def marked_replayed(self, moment: datetime) -> DeadLetterRecord:
        """The same record, marked as re-delivered."""
        return self.model_copy(update={"replayed_at": moment})


def clip_error(text: str, limit: int = LAST_ERROR_MAX_CHARS) -> str:
    """The error text, clipped to `limit` characters with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def describe_error(exc: BaseException) -> str:
    """`Type: message`, clipped: what a dead letter remembers of the last failure."""
    return clip_error(f"{type(exc).__name__}: {exc}")


def dedupe_id(consumer: str, stream_sequence: int, generation: int) -> str:
    """`Nats-Msg-Id` of a record: both recording paths send the same one."""
    return f"deadletter:{consumer}:{stream_sequence}:{generation}"


def replay_dedupe_id(consumer: str, stream_sequence: int, generation: int) -> str:
    """`Nats-Msg-Id` of a replay: a retried replay command is dropped by JetStream."""
    return f"replay:{consumer}:{stream_sequence}:{generation}"


def identify(
    subject: str, headers: Mapping[str, str] | None, body: bytes
) -> tuple[str | None, str | None, str | None]:
    """(event id, request id, profile id) of a stored message, as far as it says.

    Events carry them in `ce-id` / `ce-subject` and the body; a due timer's request id
    is the subject's last token. Never raises: a dead letter is recorded whatever it is.
    """
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    event_id = hdrs.get("ce-id") or None
    request_id = hdrs.get("ce-subject") or None
    if request_id is None and subject.startswith("timers."):
        request_id = request_id_from_timer_subject(subject)
    profile_id = None
    try:
        data = json.loads(body)
    except ValueError:
        data = None
    if isinstance(data, dict) and isinstance(data.get("profile_id"), str):
        profile_id = data["profile_id"][:64]
    if request_id is not None and not is_valid_id(request_id):
        request_id = None
    return event_id, request_id, profile_id


def replay_headers(record: DeadLetterRecord, mark_sequence: int) -> dict[str, str]:
    """Headers of the replay message: the original's (minus the server's), and the key."""
    assert record.message is not None  # only records holding their message are replayed
    headers = {
        k: v for k, v in record.message.headers.items() if not k.lower().startswith(_SERVER_SET)
    }
    for k, v in record.message.headers.items():
        if k.lower() == _SCHEDULER:
            headers[ORIGINAL_SCHEDULER_HEADER] = v
    headers.update(
        {
            ORIGINAL_SUBJECT_HEADER: record.message.subject,
            DEADLETTER_CONSUMER_HEADER: record.consumer,
            DEADLETTER_STREAM_HEADER: record.stream,
            DEADLETTER_SEQUENCE_HEADER: str(record.stream_sequence),
            DEADLETTER_GENERATION_HEADER: str(record.generation),
            DEADLETTER_MARK_HEADER: str(mark_sequence),
        }
    )
    return headers


class ReplayOrigin(BaseModel):
    """What a replay message says about the dead letter it re-delivers."""

    model_config = ConfigDict(frozen=True)

    subject: str
    headers: dict[str, str]
    consumer: str
    stream: str
    stream_sequence: int
    generation: int
    mark_sequence: int

    @classmethod
    def of(cls, headers: Mapping[str, str] | None) -> ReplayOrigin:
        """Read a replay message's headers; ValueError when one is missing or not a number."""
        hdrs = dict(headers or {})
        try:
            original = {
                k: v
                for k, v in hdrs.items()
                if not k.startswith("Accessbot-") and not k.lower().startswith(_SERVER_SET)
            }
            if ORIGINAL_SCHEDULER_HEADER in hdrs:
                original["Nats-Scheduler"] = hdrs[ORIGINAL_SCHEDULER_HEADER]
            return cls(
                subject=hdrs[ORIGINAL_SUBJECT_HEADER],
                headers=original,
                consumer=hdrs[DEADLETTER_CONSUMER_HEADER],
                stream=hdrs[DEADLETTER_STREAM_HEADER],
                stream_sequence=int(hdrs[DEADLETTER_SEQUENCE_HEADER]),
                generation=int(hdrs[DEADLETTER_GENERATION_HEADER]),
                mark_sequence=int(hdrs[DEADLETTER_MARK_HEADER]),
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"not a replay message: {exc}") from None
