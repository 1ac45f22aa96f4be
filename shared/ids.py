"""Sortable unique identifiers for events and requests (ULIDs)."""

from __future__ import annotations

import re

from ulid import ULID

_ULID_RE = re.compile(r"^[0-9A-HJKMNP-TV-Z]{26}$")


def new_id() -> str:
    """A new ULID string: unique, and sortable by creation time."""
    return str(ULID())


def is_valid_id(value: str) -> bool:
    """True for a canonical 26-character ULID (safe as a NATS subject token)."""
    return bool(_ULID_RE.match(value))
