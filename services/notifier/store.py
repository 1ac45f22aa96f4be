"""KV `slack_messages`: one record per request, changed by compare-and-set on the revision."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from nats.js import JetStreamContext
from nats.js.errors import KeyNotFoundError, KeyWrongLastSequenceError
from nats.js.kv import KeyValue

from services.notifier.record import NotifierRecord
from shared.publishing import LEADERLESS
from shared.subjects import Bucket

MAX_CAS_ATTEMPTS = 10
# A record is written right after a Slack post, which cannot be taken back: if the write
# failed while the bucket's stream elects a leader (a cluster node lost, several seconds),
# the redelivered event would post the message again. So a write nobody answered is
# tried again for this long first (a copy that did land shows as a newer revision).
WRITE_PATIENCE_SECONDS = 15.0
WRITE_RETRY_PAUSE_SECONDS = 0.25


class StoreConflictError(RuntimeError):
    """Another writer kept winning; the event is retried later."""


@dataclass(frozen=True, slots=True)
class Versioned:
    """A record and the KV revision it was read at (None: not stored yet)."""

    request_id: str
    record: NotifierRecord
    revision: int | None


class RecordStore:
    """Reads and writes notifier records; bound to JetStream once the broker is connected."""

    def __init__(self) -> None:
        self._kv: KeyValue | None = None

    async def bind(self, js: JetStreamContext) -> None:
        """Open the bucket (provisioning created it)."""
        self._kv = await js.key_value(Bucket.SLACK_MESSAGES.value)

    async def is_bound(self) -> bool:
        """Ready check: the bucket is open."""
        return self._kv is not None

    @property
    def kv(self) -> KeyValue:
        """The bucket; only valid after `bind`."""
        if self._kv is None:
            raise RuntimeError("RecordStore used before bind()")
        return self._kv

    async def load(self, request_id: str) -> Versioned:
        """The stored record, or a new empty one."""
        try:
            entry = await self.kv.get(request_id)
        except KeyNotFoundError:
            return Versioned(request_id, NotifierRecord.new(request_id), None)
        record = NotifierRecord.model_validate_json(entry.value or b"{}")
        return Versioned(request_id, record, entry.revision)

    async def change(
        self, current: Versioned, change: Callable[[NotifierRecord], NotifierRecord]
    ) -> Versioned:
        """Apply `change` and store it at the revision read; on conflict re-read and re-apply.

        `change` must be safe to apply to a newer record (set a ref, mark an event).
        """
        for _ in range(MAX_CAS_ATTEMPTS):
            updated = change(current.record)
            if updated == current.record and current.revision is not None:
                return current
            data = updated.model_dump_json(exclude_defaults=True).encode()
            try:
                revision = await self._write(current, data)
            except KeyWrongLastSequenceError:
                current = await self.load(current.request_id)
                continue
            return Versioned(current.request_id, updated, revision)
        raise StoreConflictError(f"record {current.request_id} kept changing under us")

    async def _write(self, current: Versioned, data: bytes) -> int:
        """Create or compare-and-set, again while nobody answers (bounded)."""
        give_up = time.monotonic() + WRITE_PATIENCE_SECONDS
        while True:
            try:
                if current.revision is None:
                    return await self.kv.create(current.request_id, data)
                return await self.kv.update(current.request_id, data, last=current.revision)
            except LEADERLESS:
                if time.monotonic() + WRITE_RETRY_PAUSE_SECONDS >= give_up:
                    raise
                await asyncio.sleep(WRITE_RETRY_PAUSE_SECONDS)
