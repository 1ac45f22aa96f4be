"""Reading the ACCESS stream as the read-only `siem` user: one CloudEvents JSON per line.

It reads stored messages by sequence (`$JS.API.STREAM.MSG.GET.ACCESS`), which needs no
consumer, so it works alike for `siem` (its own account's copy of ACCESS) and for `admin`
(ACCESSBOT's ACCESS, e.g. for events older than the copy; docs/architecture.md, Security model).

A message that is not a valid event is never skipped silently: it is reported on
stderr with its stream sequence and reason, and the export exits non-zero.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TextIO

from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import RawStreamMsg
from nats.js.errors import NotFoundError

from shared.cloudevents import InvalidEventError, to_structured_json
from shared.subjects import ACCESS_STREAM, ACCESS_SUBJECTS

WINDOW = 64  # messages asked for at once
TAIL_POLL_SECONDS = 0.5


@dataclass
class AuditCounts:
    """What an export or tail wrote."""

    written: int = 0
    invalid: int = 0


async def _get(js: JetStreamContext, seq: int, *, at_or_after: bool = False) -> RawStreamMsg | None:
    """The message at `seq` (or the first one after it); None when there is none."""
    try:
        if at_or_after:
            return await js.get_msg(ACCESS_STREAM, seq=seq, subject=ACCESS_SUBJECTS, next=True)
        return await js.get_msg(ACCESS_STREAM, seq=seq)
    except NotFoundError:  # deleted, aged out, or past the end
        return None


async def _read(js: JetStreamContext, first: int, last: int) -> AsyncIterator[RawStreamMsg]:
    """Stored messages `first`..`last` in order, WINDOW requests in flight."""
    seq = first
    while seq <= last:
        window = range(seq, min(last, seq + WINDOW - 1) + 1)
        for msg in await asyncio.gather(*(_get(js, n) for n in window)):
            if msg is not None:
                yield msg
        seq = window[-1] + 1


async def _first_seq_since(js: JetStreamContext, since: datetime, first: int, last: int) -> int:
    """The first sequence stored at or after `since` (binary search: ACCESS is in time order).

    An empty stream reports `first` as `last + 1` (or 0): there is nothing to search.
    """
    low, high = max(first, 1), last + 1
    while low < high:
        middle = (low + high) // 2
        msg = await _get(js, middle, at_or_after=True)
        if msg is None or msg.seq is None or msg.time is None or msg.time >= since:
            high = middle
        else:
            low = msg.seq + 1
    return low


def _emit(msg: RawStreamMsg, out: TextIO, err: TextIO, counts: AuditCounts) -> None:
    subject = msg.subject or ""
    try:
        line = to_structured_json(subject, msg.headers, msg.data or b"")
    except InvalidEventError as exc:
        counts.invalid += 1
        print(f"stream seq {msg.seq} on {subject}: not a valid event: {exc}", file=err)
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
    state = (await js.stream_info(ACCESS_STREAM)).state
    counts = AuditCounts()
    if state.messages == 0:
        return counts
    first = state.first_seq
    if since is not None:
        first = await _first_seq_since(js, since, first, state.last_seq)
    async for msg in _read(js, first, state.last_seq):
        if until is not None and msg.time is not None and msg.time > until:
            break
        _emit(msg, out, err, counts)
    return counts


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
    state = (await js.stream_info(ACCESS_STREAM)).state
    following = state.last_seq + 1
    if since is not None:
        following = await _first_seq_since(js, since, state.first_seq, state.last_seq)
    counts = AuditCounts()
    while not stop():
        last = (await js.stream_info(ACCESS_STREAM)).state.last_seq
        async for msg in _read(js, following, last):
            _emit(msg, out, err, counts)
        out.flush()
        following = max(following, last + 1)
        await asyncio.sleep(TAIL_POLL_SECONDS)
    return counts
