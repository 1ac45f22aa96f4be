"""Reading a KV bucket without a consumer, and reading a record only its owner wrote.

nats-py's KV watch creates a push consumer, and whoever may create a consumer may name
any delivery subject in the request body, out of reach of subject permissions (another
user's inbox included). So no service may create consumers on KV streams; they read the
bucket's stream with `$JS.API.DIRECT.GET.<stream>` (`next_by_subj` + `batch`, nats-server
2.11+), whose answers go to the requester's own reply inbox.

A request's reply subject is out of reach of permissions too, and nats-server stores a
JetStream API answer sent to a stream subject: a user could have a direct-get answer (a
copy of a message it stored elsewhere) land on `$KV.<bucket>.<key>` of a bucket it may not
write. Such a copy keeps the `Nats-Stream` header of the answer, which no put carries, so
`get_checked` reads records with `STREAM.MSG.GET` (stored headers intact; a direct get
overwrites them) and refuses one that carries it.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from nats.aio.msg import Msg
from nats.js.errors import NotFoundError
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue

BATCH = 1000  # messages per direct-get request
REPLY_TIMEOUT_SECONDS = 5.0
_OPERATION = "KV-Operation"
_STATUS = "Status"
_STREAM = "Nats-Stream"  # set by the server on a JetStream API answer, never on a put
_KEY = re.compile(r"^[-/_=.a-zA-Z0-9]+$")  # nats-py's rule: no wildcards, no spaces


class ForgedEntryError(RuntimeError):
    """A record was stored by a JetStream API answer, not written by the bucket's owner."""


class KvReadError(RuntimeError):
    """The server answered a direct get with an error status."""


@dataclass(frozen=True, slots=True)
class KvChange:
    """One stored change of a key: its new value, or None when deleted or purged."""

    key: str
    value: bytes | None
    revision: int


def _parts(kv: KeyValue) -> tuple[str, str]:
    # nats-py keeps a bucket's stream name and subject prefix only in these attributes.
    return kv._stream, kv._pre


async def _batch(kv: KeyValue, after: int) -> tuple[list[Msg], bool]:
    """Up to BATCH stored messages after revision `after`; True when nothing is left."""
    stream, prefix = _parts(kv)
    js = kv._js  # the bucket's own JetStream context and connection (private in nats-py)
    nc = js._nc
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    request = {"seq": after + 1, "next_by_subj": f"{prefix}>", "batch": BATCH}
    try:
        await nc.publish(f"{js._prefix}.DIRECT.GET.{stream}", json.dumps(request).encode(), inbox)
        found: list[Msg] = []
        while True:
            msg = await sub.next_msg(timeout=REPLY_TIMEOUT_SECONDS)
            headers = msg.headers or {}
            status = headers.get(_STATUS)
            if status == "404":  # nothing stored after `after`
                return found, True
            if status == "204":  # end of this batch
                return found, headers.get("Nats-Num-Pending", "0") == "0"
            if status is not None:
                raise KvReadError(f"direct get on {stream} answered {status}: {headers}")
            found.append(msg)
    finally:
        await sub.unsubscribe()


def _change(msg: Msg, prefix: str) -> KvChange:
    headers = msg.headers or {}
    deleted = headers.get(_OPERATION) in (KV_DEL, KV_PURGE)
    return KvChange(
        key=headers["Nats-Subject"].removeprefix(prefix),
        value=None if deleted else msg.data,
        revision=int(headers["Nats-Sequence"]),
    )


async def changes(kv: KeyValue, *, after: int = 0) -> tuple[list[KvChange], int]:
    """Every change stored after revision `after`, oldest first, and the last revision read."""
    _, prefix = _parts(kv)
    result: list[KvChange] = []
    last = after
    while True:
        msgs, done = await _batch(kv, last)
        result += [_change(msg, prefix) for msg in msgs]
        if result:
            last = result[-1].revision
        if done or not msgs:
            return result, last


async def latest(kv: KeyValue) -> tuple[dict[str, KvChange], int]:
    """The current value of every key (deleted keys left out), and the revision read up to."""
    found, last = await changes(kv)
    current: dict[str, KvChange] = {}
    for change in found:
        if change.value is None:
            current.pop(change.key, None)
        else:
            current[change.key] = change
    return current, last


async def get_checked(kv: KeyValue, key: str) -> tuple[bytes, int] | None:
    """The key's value and revision; None when absent, deleted or not a valid key.

    Raises ForgedEntryError for a value that a JetStream API answer stored (see above).
    """
    if not _KEY.match(key):
        return None
    stream, prefix = _parts(kv)
    try:
        msg = await kv._js.get_msg(stream, subject=f"{prefix}{key}")
    except NotFoundError:
        return None
    headers = msg.headers or {}
    if _STREAM in headers:
        raise ForgedEntryError(
            f"{prefix}{key} holds a copy of a message of {headers[_STREAM]!r} "
            "(stored by a JetStream API answer, not by the bucket's owner)"
        )
    if headers.get(_OPERATION) in (KV_DEL, KV_PURGE) or msg.seq is None:
        return None
    return msg.data or b"", msg.seq
