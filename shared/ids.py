"""Sortable unique identifiers for events and requests (ULIDs)."""

from __future__ import annotations

import hashlib
import re
from datetime import datetime

from ulid import ULID

_ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def new_id() -> str:
    """A new ULID string: unique, and sortable by creation time."""
    return str(ULID())


def deterministic_id(moment: datetime, key: str) -> str:
    """A ULID whose time part is `moment` and whose random part is derived from `key`.

    The same (moment, key) always gives the same id: a retried delivery (Slack
    re-sending an envelope) republishes with the same event id, and JetStream's
    duplicate window drops it, without any shared state between replicas.
    """
    millis = int(moment.timestamp() * 1000)
    entropy = hashlib.sha256(key.encode()).digest()[:10]
    return str(ULID.from_bytes(millis.to_bytes(6, "big") + entropy))


def is_valid_id(value: str) -> bool:
    """True for a canonical 26-character ULID (safe as a NATS subject token)."""
    return bool(_ULID_RE.match(value))
