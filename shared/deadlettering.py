"""Recording, listing and replaying dead letters in the DEADLETTER stream.

Both recording paths (a handler's failed last attempt, and JetStream's max-deliveries
advisory when the process died on it) publish the same record to the same subject with
the same `Nats-Msg-Id`, and with `Nats-Expected-Last-Subject-Sequence`: the server
stores the first and refuses the second, however late it comes. Only the first is
announced (an ACCESS event, and one ERROR log line).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import structlog
from nats.errors import Error as NatsError
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import BadRequestError, NotFoundError
from pydantic import ValidationError

from shared.contracts.cloudevents import MSG_ID_HEADER
from shared.contracts.events import DeliveryDeadLettered
from shared.contracts.subjects import (
    DEADLETTER_STREAM,
    deadletter_record_subject,
    deadletter_replay_subject,
)
from shared.deadletter import (
    DeadLetterRecord,
    OriginalMessage,
    dedupe_id,
    replay_dedupe_id,
    replay_headers,
)
from shared.ids import deterministic_id
from shared.publishing import EventPublisher

EXPECTED_LAST_SUBJECT_SEQ = "Nats-Expected-Last-Subject-Sequence"
WRONG_LAST_SEQUENCE = 10071  # JetStream: the expectation above did not hold
PUBLISH_TIMEOUT_SECONDS = 5.0
LIST_BATCH = 256
RECORDS_FILTER = "deadletter.record.>"

log = structlog.get_logger("accessbot.deadletter")


async def fetch_original(js: JetStreamContext, stream: str, seq: int) -> OriginalMessage | None:
    """The stored message at `seq`, or None when it is no longer in the stream."""
    try:
        raw = await js.get_msg(stream, seq)
    except NotFoundError:
        return None
    return OriginalMessage.of(raw.subject or "", raw.headers, raw.data or b"")


async def record_dead_letter(
    js: JetStreamContext, record: DeadLetterRecord, *, on_top_of: int = 0
) -> bool:
    """Store `record` unless its dead letter is already recorded; True when stored now.

    `on_top_of` is the sequence the record's subject must end at (0: nothing recorded
    yet; a failed replay: its "replayed" mark). When stored, the record is announced once:
    an ERROR log line `event.deadlettered` and an `access.delivery.deadlettered` event.
    """
    key = dedupe_id(record.consumer, record.stream_sequence, record.generation)
    try:
        ack = await js.publish(
            deadletter_record_subject(record.consumer, record.stream_sequence),
            record.model_dump_json().encode(),
            timeout=PUBLISH_TIMEOUT_SECONDS,
            stream=DEADLETTER_STREAM,
            headers={MSG_ID_HEADER: key, EXPECTED_LAST_SUBJECT_SEQ: str(on_top_of)},
        )
    except BadRequestError as exc:
        if exc.err_code != WRONG_LAST_SEQUENCE:
            raise
        ack = None
    if ack is None or ack.duplicate:
        log.info("deadletter.already_recorded", consumer=record.consumer, key=key)
        return False
    log.error(
        "event.deadlettered",
        service=record.service,
        consumer=record.consumer,
        subject=record.subject,
        ce_id=record.event_id,
        stream=record.stream,
        stream_seq=record.stream_sequence,
        request_id=record.request_id,
        deliveries=record.deliveries,
        last_error=record.last_error,
        source=record.source,
        generation=record.generation,
    )
    await _announce(js, record, key)
    return True


async def _announce(js: JetStreamContext, record: DeadLetterRecord, key: str) -> None:
    if record.request_id is None:
        log.warning("deadletter.not_announced", consumer=record.consumer, reason="no request id")
        return
    if record.subject == DeliveryDeadLettered.SUBJECT.value:
        # An announcement nobody could post is not announced again (no loop); it is listed.
        log.warning("deadletter.not_announced", consumer=record.consumer, reason="announcement")
        return
    event = DeliveryDeadLettered(
        request_id=record.request_id,
        service=record.service,
        consumer=record.consumer,
        subject=record.subject,
        event_id=record.event_id,
        stream=record.stream,
        stream_sequence=record.stream_sequence,
        deliveries=max(1, record.deliveries),
        last_error=record.last_error,
        profile_id=record.profile_id,
    )
    publisher = EventPublisher(js, source=f"accessbot/{record.service}")
    # A stable id: an announcement retried within JetStream's window is dropped there.
    await publisher.publish(event, event_id=deterministic_id(record.recorded_at, key))


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """A dead letter's current state and where it sits in DEADLETTER."""

    sequence: int
    record: DeadLetterRecord


async def current_records(js: JetStreamContext) -> AsyncIterator[StoredRecord]:
    """The latest state of every dead letter, oldest first (read with an ephemeral consumer)."""
    try:
        info = await js.stream_info(DEADLETTER_STREAM)
    except NotFoundError:  # no service has started since the upgrade: nothing recorded
        return
    if info.state.messages == 0:
        return
    config = ConsumerConfig(
        deliver_policy=DeliverPolicy.LAST_PER_SUBJECT,
        ack_policy=AckPolicy.NONE,
        inactive_threshold=60,
    )
    sub = await js.pull_subscribe(RECORDS_FILTER, stream=DEADLETTER_STREAM, config=config)
    try:
        while True:
            try:
                msgs = await sub.fetch(LIST_BATCH, timeout=1)
            except (NatsTimeoutError, TimeoutError):  # nats-py raises either
                return
            for msg in msgs:
                try:
                    record = DeadLetterRecord.model_validate_json(msg.data)
                except ValidationError:
                    log.warning("deadletter.unreadable", subject=msg.subject)
                else:
                    yield StoredRecord(msg.metadata.sequence.stream, record)
                if msg.metadata.num_pending == 0:
                    return
    finally:
        await sub.unsubscribe()


async def pending_records(js: JetStreamContext) -> list[StoredRecord]:
    """Dead letters not replayed yet."""
    return [s async for s in current_records(js) if not s.record.replayed]


def _names(record: DeadLetterRecord) -> set[str]:
    """What `replay` accepts for a record: its event id, or CONSUMER:SEQ (due timers)."""
    names = {f"{record.consumer}:{record.stream_sequence}"}
    if record.event_id:
        names.add(record.event_id)
    return names


class ReplayError(Exception):
    """A replay that cannot be done; the message is one line for the operator."""


async def replay(
    js: JetStreamContext, event_id: str, *, now: datetime | None = None
) -> list[DeadLetterRecord]:
    """Re-deliver the dead-lettered event `event_id` (or CONSUMER:SEQ) to each consumer
    that gave up on it.

    The record is first marked replayed on top of its current state (so two operators
    cannot both replay it), then the message goes to `deadletter.replay.<consumer>`,
    which only that consumer's service reads.
    """
    matches = [s for s in await pending_records(js) if event_id in _names(s.record)]
    if not matches:
        raise ReplayError(f"no dead-lettered message {event_id!r} waits for a replay")
    moment = now or datetime.now(UTC)
    replayed = []
    for stored in matches:
        record = stored.record
        if record.message is None:
            raise ReplayError(
                f"{event_id} on {record.consumer}: the message had left stream "
                f"{record.stream} before it was recorded; nothing to replay"
            )
        mark = await _mark_replayed(js, stored, moment, event_id)
        try:
            await js.publish(
                deadletter_replay_subject(record.consumer),
                record.message.body,
                timeout=PUBLISH_TIMEOUT_SECONDS,
                stream=DEADLETTER_STREAM,
                headers={
                    **replay_headers(record, mark),
                    MSG_ID_HEADER: replay_dedupe_id(
                        record.consumer, record.stream_sequence, record.generation
                    ),
                },
            )
        except (NatsError, TimeoutError) as exc:
            await _unmark(js, record, mark)
            raise ReplayError(
                f"{event_id} on {record.consumer} could not be re-delivered "
                f"({type(exc).__name__}); it stays dead-lettered"
            ) from None
        replayed.append(record)
    return replayed


async def _unmark(js: JetStreamContext, record: DeadLetterRecord, mark: int) -> None:
    """Put the record back as it was (on top of the mark just made)."""
    await js.publish(
        deadletter_record_subject(record.consumer, record.stream_sequence),
        record.model_dump_json().encode(),
        timeout=PUBLISH_TIMEOUT_SECONDS,
        stream=DEADLETTER_STREAM,
        headers={EXPECTED_LAST_SUBJECT_SEQ: str(mark)},
    )


async def _mark_replayed(
    js: JetStreamContext, stored: StoredRecord, moment: datetime, event_id: str
) -> int:
    record = stored.record
    try:
        ack = await js.publish(
            deadletter_record_subject(record.consumer, record.stream_sequence),
            record.marked_replayed(moment).model_dump_json().encode(),
            timeout=PUBLISH_TIMEOUT_SECONDS,
            stream=DEADLETTER_STREAM,
            headers={EXPECTED_LAST_SUBJECT_SEQ: str(stored.sequence)},
        )
    except BadRequestError as exc:
        if exc.err_code != WRONG_LAST_SEQUENCE:
            raise
        raise ReplayError(
            f"{event_id} on {record.consumer} changed while replaying "
            "(replayed by someone else?); run `accessbot deadletter list` again"
        ) from None
    return ack.seq
