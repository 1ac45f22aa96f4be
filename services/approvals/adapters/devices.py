"""Device snapshots read from KV `devices` (written by grants): what approvers see."""

from __future__ import annotations

import structlog
from nats.js.kv import KeyValue
from pydantic import ValidationError

from shared.contracts.events import DeviceSnapshot
from shared.kv_reading import ForgedEntryError, get_checked

log = structlog.get_logger("accessbot.approvals.devices")


class DeviceDirectory:
    """Looks devices up by node id; an unknown or unreadable device is None."""

    def __init__(self, kv: KeyValue) -> None:
        self._kv = kv

    async def get(self, device_id: str) -> DeviceSnapshot | None:
        """The device's snapshot, or None when `devices` does not hold a valid one."""
        try:
            found = await get_checked(self._kv, device_id)
        except ForgedEntryError as exc:
            # Treated as unknown (the request is rejected, saying so); someone forged it.
            log.error("device.forged_snapshot", device_id=device_id, error=str(exc))
            return None
        if found is None:
            return None
        try:
            return DeviceSnapshot.model_validate_json(found[0])
        except ValidationError as exc:
            # Treated as unknown (the request is rejected, saying so); grants must fix it.
            log.error("device.invalid_snapshot", device_id=device_id, error=str(exc))
            return None
