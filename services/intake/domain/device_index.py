"""The in-memory device index behind the device picker (fed from KV `devices`).

Searches must answer inside Slack's 3-second suggestion deadline with a wide
margin at 10,000 devices, so everything a search compares is precomputed when a
device is stored (lowercase keys, per-owner lists) and sorting happens lazily,
once per change, not per keystroke.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from shared.contracts.emails import normalise_email
from shared.contracts.events import DeviceSnapshot

MAX_RESULTS = 100  # Slack shows at most 100 options in a select
ADDRESS_MARK = "\x00"


def _norm_email(email: str | None) -> str:
    return normalise_email(email or "")


def is_own_device(device: DeviceSnapshot, email: str) -> bool:
    """A requester's own device: owned by their email and not tagged (tags own it then)."""
    return not device.tags and bool(email) and _norm_email(device.owner) == _norm_email(email)


def _seen_rank(device: DeviceSnapshot) -> tuple[int, float]:
    """Connected devices first, then the most recently seen (never seen last)."""
    if device.connected_to_control:
        return (0, 0.0)
    if device.last_seen is None:
        return (2, 0.0)
    return (1, -_timestamp(device.last_seen))


def _timestamp(moment: datetime) -> float:
    # A naive last_seen is taken as UTC; only the order matters here.
    return (moment if moment.tzinfo else moment.replace(tzinfo=UTC)).timestamp()


@dataclass(frozen=True, slots=True)
class IndexedDevice:
    """A device with what searching compares, computed once."""

    device: DeviceSnapshot
    owner: str
    tagged: bool
    text: str  # lowercase name, hostname and node id, for substring matches
    addresses: str  # lowercase, each after a NUL, so a prefix match is one substring test
    recency: tuple[int, float, str]
    alphabetical: tuple[str, str]

    @classmethod
    def of(cls, device: DeviceSnapshot) -> IndexedDevice:
        name = device.name.lower()
        return cls(
            device=device,
            owner=_norm_email(device.owner),
            tagged=bool(device.tags),
            text="\n".join((name, device.hostname.lower(), device.node_id.lower())),
            addresses="".join(ADDRESS_MARK + a.lower() for a in device.addresses),
            recency=(*_seen_rank(device), name),
            alphabetical=(name, device.node_id),
        )

    def matches(self, query: str) -> bool:
        """`query` is lowercase and stripped; empty matches everything."""
        return query in self.text or ADDRESS_MARK + query in self.addresses


@dataclass(frozen=True, slots=True)
class DeviceSearch:
    """What a search found: the requester's devices, and (if asked) everyone else's."""

    own: list[DeviceSnapshot] = field(default_factory=list)
    others: list[DeviceSnapshot] = field(default_factory=list)


class DeviceIndex:
    """Devices by node id, with per-owner lists; not thread-safe (one event loop)."""

    def __init__(self) -> None:
        self._by_id: dict[str, IndexedDevice] = {}
        self._by_owner: dict[str, list[IndexedDevice]] = {}
        self._unsorted_owners: set[str] = set()
        self._all_sorted: list[IndexedDevice] | None = None
        self.loaded = False  # set once the initial KV snapshot is in

    def __len__(self) -> int:
        return len(self._by_id)

    def get(self, node_id: str) -> DeviceSnapshot | None:
        """The device with this node id, if known."""
        entry = self._by_id.get(node_id)
        return entry.device if entry is not None else None

    def node_ids(self) -> set[str]:
        """Every node id held (used to drop devices gone while a watch was down)."""
        return set(self._by_id)

    def put(self, device: DeviceSnapshot) -> None:
        """Add or replace a device; an unchanged snapshot changes nothing."""
        old = self._by_id.get(device.node_id)
        if old is not None and old.device == device:
            return
        if old is not None:
            self._drop_from_owner(old)
        entry = IndexedDevice.of(device)
        self._by_id[device.node_id] = entry
        if entry.owner:
            self._by_owner.setdefault(entry.owner, []).append(entry)
            self._unsorted_owners.add(entry.owner)
        self._all_sorted = None

    def remove(self, node_id: str) -> None:
        """Forget a device (deleted from KV)."""
        old = self._by_id.pop(node_id, None)
        if old is not None:
            self._drop_from_owner(old)
            self._all_sorted = None

    def _drop_from_owner(self, entry: IndexedDevice) -> None:
        if not entry.owner:
            return
        owned = self._by_owner.get(entry.owner, [])
        owned[:] = [e for e in owned if e.device.node_id != entry.device.node_id]
        if not owned:
            self._by_owner.pop(entry.owner, None)

    def _owned(self, email: str) -> list[IndexedDevice]:
        owned = self._by_owner.get(email, [])
        if email in self._unsorted_owners:
            owned.sort(key=lambda e: e.recency)
            self._unsorted_owners.discard(email)
        return owned

    def _everything(self) -> list[IndexedDevice]:
        if self._all_sorted is None:
            self._all_sorted = sorted(self._by_id.values(), key=lambda e: e.alphabetical)
        return self._all_sorted

    def search(
        self,
        query: str,
        *,
        requester_email: str,
        include_all: bool,
        limit: int = MAX_RESULTS,
    ) -> DeviceSearch:
        """The requester's untagged devices matching `query` (connected, then most
        recently seen, first), then, when `include_all`, every other matching
        device by name, `limit` options in all.

        `query` matches a substring of the name, hostname or node id, or a prefix
        of an address, case-insensitively.
        """
        q = query.strip().lower()
        q_address = ADDRESS_MARK + q
        email = _norm_email(requester_email)
        own: list[DeviceSnapshot] = []
        if email:
            for entry in self._owned(email):
                if len(own) >= limit:
                    break
                if not entry.tagged and entry.matches(q):
                    own.append(entry.device)
        others: list[DeviceSnapshot] = []
        room = limit - len(own)
        if include_all and room > 0:
            # The hot loop at 10,000 devices: inline tests, no calls.
            for entry in self._everything():
                if (q in entry.text or q_address in entry.addresses) and (
                    entry.tagged or entry.owner != email or not email
                ):
                    others.append(entry.device)
                    if len(others) >= room:
                        break
        return DeviceSearch(own=own, others=others)
