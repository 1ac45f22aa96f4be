"""Keeps the device index current from KV `devices` (grants writes it; intake only reads).

A KV watch replays the bucket's latest values, then streams every put and delete.
If the watch breaks it is re-established, and devices that vanished meanwhile are
dropped once the replay is complete.
"""

from __future__ import annotations

import asyncio
import contextlib

import structlog
from nats.js import JetStreamContext
from nats.js.kv import KV_DEL, KV_PURGE, KeyValue
from pydantic import ValidationError

from services.intake.device_index import DeviceIndex
from shared.events import DeviceSnapshot
from shared.subjects import Bucket

log = structlog.get_logger("accessbot.intake.devices")

RETRY_SECONDS = 2.0


class DeviceWatch:
    """Runs the watch in a background task; `loaded` is set after the first replay."""

    def __init__(self, index: DeviceIndex, *, retry_seconds: float = RETRY_SECONDS) -> None:
        self._index = index
        self._retry = retry_seconds
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
        watcher = await kv.watchall()
        replayed: set[str] | None = set()  # keys seen until the replay is complete
        try:
            async for entry in watcher:
                if entry is None:  # the replay is complete
                    if replayed is not None:
                        self._finish_replay(replayed)
                        replayed = None
                    continue
                if replayed is not None:
                    replayed.add(entry.key)
                self._apply(entry.key, entry.operation, entry.value)
        finally:
            with contextlib.suppress(Exception):
                await watcher.stop()  # type: ignore[no-untyped-call]  # nats-py: unannotated

    def _finish_replay(self, replayed: set[str]) -> None:
        for gone in self._index.node_ids() - replayed:
            self._index.remove(gone)
        self._index.loaded = True
        self.loaded.set()
        log.info("devices.loaded", devices=len(self._index))

    def _apply(self, key: str, operation: str | None, value: bytes | None) -> None:
        if operation in (KV_DEL, KV_PURGE):
            self._index.remove(key)
            return
        try:
            device = DeviceSnapshot.model_validate_json(value or b"")
        except ValidationError as exc:
            log.warning("devices.bad_snapshot", key=key, error=str(exc)[:300])
            return
        if device.node_id != key:
            log.warning("devices.key_mismatch", key=key, node_id=device.node_id)
        self._index.put(device)
