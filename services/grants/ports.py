"""What the grants handlers need from outside, as protocols (the adapters implement them)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Protocol

from services.grants.domain.posture_attributes import AttributeValue, DeviceAttributes
from services.grants.domain.records import GrantRecord
from shared.contracts.events import Event
from shared.persistence import outbox as kit
from shared.persistence.versioned import Versioned, VersionedStore

GrantStore = VersionedStore[GrantRecord]
Stored = Versioned[GrantRecord]


class AttributeApi(Protocol):
    """The Tailscale calls grants makes about one device (TailscaleClient provides them)."""

    async def get_attributes(
        self, device_id: str, *, deadline: float | None = None
    ) -> DeviceAttributes: ...

    async def set_attribute(
        self,
        device_id: str,
        key: str,
        value: AttributeValue,
        *,
        expiry: datetime | None,
        comment: str | None,
        deadline: float | None = None,
    ) -> None: ...

    async def delete_attribute(
        self, device_id: str, key: str, *, deadline: float | None = None
    ) -> bool: ...


class Announcer(kit.EntryPublisher, Protocol):
    """Puts events and stored outbox entries on the ACCESS stream (shared.publishing)."""

    async def publish(
        self, event: Event, *, event_id: str | None = None, time: datetime | None = None
    ) -> object: ...


class DeviceSource(Protocol):
    """Where devices come from (TailscaleClient provides it)."""

    async def list_devices(self) -> list[dict[str, Any]]: ...
