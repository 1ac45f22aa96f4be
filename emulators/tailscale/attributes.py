"""Custom posture attributes of every device, with tailnet-wide key rules and lazy expiry."""

from __future__ import annotations

import heapq
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple

from emulators.tailscale.rules import (
    SYSTEM_PREFIX,
    AttributeValue,
    InvalidAttributeError,
    ValueKind,
    parse_expiry,
    validate_comment,
    validate_key,
    value_kind,
)


class AttributeNotFoundError(LookupError):
    """Deleting an attribute the device does not have."""


@dataclass(frozen=True)
class Attribute:
    """One custom attribute on one device."""

    value: AttributeValue
    kind: ValueKind
    expiry: datetime | None
    comment: str | None
    serial: int  # matches heap entries to the attribute they were pushed for


@dataclass(frozen=True)
class SetAttribute:
    """Set `key` on `node_id`; `expiry` is the raw RFC 3339 text from the request."""

    node_id: str
    key: str
    value: object
    expiry: object = None
    comment: object = None


@dataclass(frozen=True)
class DeleteAttribute:
    """Delete `key`; `missing_ok` gives JSON merge-patch semantics (null on absent is a no-op)."""

    node_id: str
    key: str
    missing_ok: bool = False


Change = SetAttribute | DeleteAttribute


class _KeyInfo(NamedTuple):
    key: str  # the spelling in use; others differing only in case are refused
    kind: ValueKind
    holders: int  # devices holding it; at zero the key is free again


class AttributeStore:
    """Holds attributes; every read and write first drops those past expiry + lag."""

    def __init__(self, expiry_lag: float) -> None:
        self._lag = timedelta(seconds=expiry_lag)
        self._nodes: dict[str, dict[str, Attribute]] = {}
        self._keys: dict[str, _KeyInfo] = {}
        self._removals: list[tuple[datetime, int, str, str]] = []
        self._serial = 0

    def get(self, node_id: str, now: datetime) -> dict[str, Attribute]:
        """The live custom attributes of one device."""
        self.purge(now)
        return dict(self._nodes.get(node_id, {}))

    def purge(self, now: datetime) -> None:
        """Remove every attribute whose expiry plus lag has passed."""
        while self._removals and self._removals[0][0] <= now:
            _, serial, node_id, key = heapq.heappop(self._removals)
            current = self._nodes.get(node_id, {}).get(key)
            if current is not None and current.serial == serial:
                self._drop(self._nodes, self._keys, node_id, key)
                if not self._nodes[node_id]:
                    del self._nodes[node_id]

    def pending_expiries(self) -> int:
        """How many live attributes still wait for removal (does not purge)."""
        return sum(
            1
            for _, serial, node_id, key in self._removals
            if (attr := self._nodes.get(node_id, {}).get(key)) is not None and attr.serial == serial
        )

    def apply(self, changes: list[Change], now: datetime) -> None:
        """Validate all changes together, then apply all or none."""
        self.purge(now)
        keys = dict(self._keys)
        nodes = {c.node_id: dict(self._nodes.get(c.node_id, {})) for c in changes}
        added: list[tuple[str, str, Attribute]] = []
        for change in changes:
            if isinstance(change, SetAttribute):
                attribute = self._plan_set(keys, nodes, change, now)
                added.append((change.node_id, change.key, attribute))
            else:
                self._plan_delete(keys, nodes, change)
        self._keys = keys
        for node_id, attributes in nodes.items():
            if attributes:
                self._nodes[node_id] = attributes
            else:
                self._nodes.pop(node_id, None)
        for node_id, key, attribute in added:
            if attribute.expiry is not None and nodes[node_id].get(key) is attribute:
                removal = attribute.expiry + self._lag
                heapq.heappush(self._removals, (removal, attribute.serial, node_id, key))

    def remove_node(self, node_id: str) -> None:
        """Forget a deleted device's attributes (and release its keys)."""
        for key in list(self._nodes.get(node_id, {})):
            self._drop(self._nodes, self._keys, node_id, key)
        self._nodes.pop(node_id, None)

    def _plan_set(
        self,
        keys: dict[str, _KeyInfo],
        nodes: dict[str, dict[str, Attribute]],
        change: SetAttribute,
        now: datetime,
    ) -> Attribute:
        validate_key(change.key)
        kind = value_kind(change.value)
        expiry = parse_expiry(change.expiry, now)
        comment = validate_comment(change.comment)
        info = keys.get(change.key.lower())
        if info is not None and info.key != change.key:
            raise InvalidAttributeError(
                f"attribute key {change.key!r} clashes with existing key {info.key!r}: "
                "keys must be unique regardless of case"
            )
        if info is not None and info.kind != kind:
            raise InvalidAttributeError(
                f"attribute {change.key!r} holds {info.kind} values in this tailnet, not {kind}"
            )
        attributes = nodes[change.node_id]
        if change.key not in attributes:
            count = info.holders if info is not None else 0
            keys[change.key.lower()] = _KeyInfo(change.key, kind, count + 1)
        self._serial += 1
        assert isinstance(change.value, str | int)  # value_kind accepted it
        attribute = Attribute(change.value, kind, expiry, comment, self._serial)
        attributes[change.key] = attribute
        return attribute

    @staticmethod
    def _plan_delete(
        keys: dict[str, _KeyInfo],
        nodes: dict[str, dict[str, Attribute]],
        change: DeleteAttribute,
    ) -> None:
        if change.key.startswith(SYSTEM_PREFIX):
            raise InvalidAttributeError(
                f"{change.key!r} is a system attribute and cannot be deleted; "
                "only custom: attributes can"
            )
        validate_key(change.key)
        if change.key not in nodes[change.node_id]:
            if change.missing_ok:
                return
            raise AttributeNotFoundError(f"attribute {change.key!r} not found on this device")
        AttributeStore._drop(nodes, keys, change.node_id, change.key)

    @staticmethod
    def _drop(
        nodes: dict[str, dict[str, Attribute]],
        keys: dict[str, _KeyInfo],
        node_id: str,
        key: str,
    ) -> None:
        del nodes[node_id][key]  # an emptied device entry is tidied up by the caller
        info = keys[key.lower()]
        if info.holders <= 1:
            del keys[key.lower()]
        else:
            keys[key.lower()] = info._replace(holders=info.holders - 1)
