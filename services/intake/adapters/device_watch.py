"""Keeps the device index current from KV `devices` (grants writes it; intake only reads).

It reads the bucket's latest values, then polls for every put and delete since
(`shared.kv_reading`: direct gets, no consumer, because a user allowed to create
consumers could aim one at another user's inbox). If reading fails it starts over,
and devices that vanished meanwhile are dropped once the new snapshot is complete.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.js import JetStreamContext
from nats.js.kv import KeyValue
from pydantic import ValidationError

from services.intake.domain.device_index import DeviceIndex
from shared.contracts.events import DeviceSnapshot
from shared.contracts.subjects import Bucket
from shared.kv_reading import changes, latest
from shared.memory import release_free_memory

log = structlog.get_logger("accessbot.intake.devices")

RETRY_SECONDS = 2.0
POLL_SECONDS = 0.25  # a device grants just wrote is searchable a moment later


# Pydantic keeps, per instance, the set of the fields it was given: 728 of a device
# snapshot's 1,870 bytes, and intake holds one snapshot per device of the tailnet. Every
# snapshot with the same fields shares one set instead (a frozen model never changes its
# own in place; model_copy copies it). At most one set per combination of the model's
# fields, so the table is bounded by the model itself.
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}


def _sharing_fields_set(device: DeviceSnapshot) -> DeviceSnapshot:
    names = frozenset(device.model_fields_set)
    shared = _FIELDS_SETS.setdefault(names, set(names))
    object.__setattr__(device, "__pydantic_fields_set__", shared)
    return device


class DeviceWatch:
    """Runs the watch in a background task; `loaded` is set after the first replay."""

    def __init__(
        self,
        index: DeviceIndex,
        *,
        retry_seconds: float = RETRY_SECONDS,
        poll_seconds: float = POLL_SECONDS,
    ) -> None:
        self._index = index
        self._retry = retry_seconds
        self._poll = poll_seconds
        self._task: asyncio.Task[None] | None = None
        self.loaded = asyncio.Event()

    def start(self, js: JetStreamContext) -> None:
        """Begin watching (idempotent)."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(js), name="intake-device-watch")

    async def stop(self) -> None:
        """Stop watching."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self, js: JetStreamContext) -> None:
        while True:
            try:
                kv = await js.key_value(Bucket.DEVICES.value)
                await self._follow(kv)
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - any failure: log, wait, watch again
                log.warning("devices.watch_failed", error=repr(exc), retry_in_s=self._retry)
            await asyncio.sleep(self._retry)

    async def _follow(self, kv: KeyValue) -> None:
        current, last = await latest(kv)
        for key, change in current.items():
            self._apply(key, change.value)
        self._finish_replay(set(current))
        while True:
            await asyncio.sleep(self._poll)
            found, last = await changes(kv, after=last)
            for change in found:
                self._apply(change.key, change.value)

    def _finish_replay(self, replayed: set[str]) -> None:
        for gone in self._index.node_ids() - replayed:
            self._index.remove(gone)
        self._index.loaded = True
        self.loaded.set()
        log.info("devices.loaded", devices=len(self._index))
        release_free_memory(after="devices.loaded")  # the replay's decoded values are garbage

    def _apply(self, key: str, value: bytes | None) -> None:
        if value is None:  # deleted or purged
            self._index.remove(key)
            return
        try:
            device = _sharing_fields_set(DeviceSnapshot.model_validate_json(value))
        except ValidationError as exc:
            log.warning("devices.bad_snapshot", key=key, error=str(exc)[:300])
            return
        if device.node_id != key:
            log.warning("devices.key_mismatch", key=key, node_id=device.node_id)
        self._index.put(device)
