"""Reading the ACCESS stream as the read-only `siem` user: one CloudEvents JSON per line.

A message that is not a valid event is never skipped silently: it is reported on
stderr with its stream sequence and reason, and the export exits non-zero.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TextIO

from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import TimeoutError as NatsTimeoutError
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from shared.cloudevents import InvalidEventError, to_structured_json
from shared.subjects import ACCESS_STREAM, ACCESS_SUBJECTS

BATCH = 256


@dataclass
class AuditCounts:
    """What an export or tail wrote."""

    written: int = 0
    invalid: int = 0


def _consumer_config(since: datetime | None) -> ConsumerConfig:
    if since is None:
        return ConsumerConfig(
            deliver_policy=DeliverPolicy.ALL, ack_policy=AckPolicy.NONE, inactive_threshold=60
        )
    return ConsumerConfig(
        deliver_policy=DeliverPolicy.BY_START_TIME,
        opt_start_time=since.astimezone(UTC),
        ack_policy=AckPolicy.NONE,
        inactive_threshold=60,
    )


def _emit(msg: Msg, out: TextIO, err: TextIO, counts: AuditCounts) -> None:
    try:
        line = to_structured_json(msg.subject, msg.headers, msg.data)
    except InvalidEventError as exc:
        counts.invalid += 1
        seq = msg.metadata.sequence.stream if msg.reply else "?"
        print(f"stream seq {seq} on {msg.subject}: not a valid event: {exc}", file=err)
        return
    out.write(line + "\n")
    counts.written += 1


async def export(
    nc: Client,
    *,
    since: datetime | None,
    until: datetime | None,
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> AuditCounts:
    """Every event stored between `since` and `until` (stream time), oldest first."""
    js = nc.jetstream()
    info = await js.stream_info(ACCESS_STREAM)
    last = info.state.last_seq
    counts = AuditCounts()
    if info.state.messages == 0:
        return counts
    sub = await js.pull_subscribe(
        ACCESS_SUBJECTS, stream=ACCESS_STREAM, config=_consumer_config(since)
    )
    try:
        while True:
            try:
                msgs = await sub.fetch(BATCH, timeout=2)
            except (NatsTimeoutError, TimeoutError):  # nats-py raises either
                return counts
            for msg in msgs:
                meta = msg.metadata
                if until is not None and meta.timestamp > until:
                    return counts
                _emit(msg, out, err, counts)
                if meta.sequence.stream >= last:
                    return counts
    finally:
        await sub.unsubscribe()


async def tail(
    nc: Client,
    *,
    since: datetime | None,
    stop: Callable[[], bool],
    out: TextIO = sys.stdout,
    err: TextIO = sys.stderr,
) -> AuditCounts:
    """New events as they arrive (from `since` when given) until `stop()` is true."""
    js = nc.jetstream()
    config = _consumer_config(since)
    if since is None:
        config.deliver_policy = DeliverPolicy.NEW
    sub = await js.pull_subscribe(ACCESS_SUBJECTS, stream=ACCESS_STREAM, config=config)
    counts = AuditCounts()
    try:
        while not stop():
            try:
                msgs = await sub.fetch(BATCH, timeout=0.5)
            except (NatsTimeoutError, TimeoutError):  # nats-py raises either
                continue
            for msg in msgs:
                _emit(msg, out, err, counts)
            out.flush()
            await asyncio.sleep(0)
    finally:
        await sub.unsubscribe()
    return counts
