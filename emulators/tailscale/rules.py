"""Posture attribute rules from Tailscale's KB 1288: key shape, value types, expiry, comment."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from emulators.tailscale.timefmt import parse_rfc3339

AttributeValue = str | int | bool
ValueKind = Literal["string", "number", "boolean"]

CUSTOM_PREFIX = "custom:"
SYSTEM_PREFIX = "node:"
MAX_KEY_LENGTH = 50
MAX_STRING_LENGTH = 50
MAX_INTEGER = 2**53 - 1  # the largest integer a JSON double carries exactly
MAX_COMMENT_LENGTH = 200

_KEY_RE = re.compile(r"^custom:[A-Za-z0-9_:]+$")
_STRING_RE = re.compile(r"^[A-Za-z0-9_.]+$")


class InvalidAttributeError(ValueError):
    """A request broke an attribute rule; the message is what the API answers."""


def validate_key(key: str) -> None:
    """Raise InvalidAttributeError unless `key` is an acceptable custom attribute key."""
    if not key.startswith(CUSTOM_PREFIX):
        raise InvalidAttributeError(f"attribute key {key!r} must start with {CUSTOM_PREFIX!r}")
    if len(key) > MAX_KEY_LENGTH:
        raise InvalidAttributeError(
            f"attribute key {key!r} is {len(key)} characters; at most {MAX_KEY_LENGTH} allowed"
        )
    if not _KEY_RE.match(key):
        raise InvalidAttributeError(
            f"attribute key {key!r} may contain only letters, digits, '_' and ':'"
        )


def value_kind(value: object) -> ValueKind:
    """Classify and validate a JSON value; raise InvalidAttributeError when unacceptable."""
    # bool first: in Python True is also an int, in JSON it is not a number.
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        if not 0 <= value <= MAX_INTEGER:
            raise InvalidAttributeError(f"integer value must be between 0 and {MAX_INTEGER}")
        return "number"
    if isinstance(value, str):
        if len(value) > MAX_STRING_LENGTH:
            raise InvalidAttributeError(
                f"string value is {len(value)} characters; at most {MAX_STRING_LENGTH} allowed"
            )
        if not _STRING_RE.match(value):
            raise InvalidAttributeError(
                "string value must be non-empty and contain only letters, digits, '_' and '.'"
            )
        return "string"
    if value is None:
        raise InvalidAttributeError("attribute value is required")
    raise InvalidAttributeError("attribute value must be a string, an integer or a boolean")


def parse_expiry(raw: object, now: datetime) -> datetime | None:
    """Parse an optional expiry; it must be RFC 3339 and lie in the future."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidAttributeError("expiry must be an RFC 3339 timestamp string")
    try:
        expiry = parse_rfc3339(raw)
    except ValueError as exc:
        raise InvalidAttributeError(f"expiry {raw!r} is not a valid RFC 3339 timestamp") from exc
    if expiry <= now:
        raise InvalidAttributeError(f"expiry {raw!r} is not in the future")
    return expiry


def validate_comment(raw: object) -> str | None:
    """Comments are optional audit-log text of at most 200 characters."""
    if raw is None:
        return None
    if not isinstance(raw, str):
        raise InvalidAttributeError("comment must be a string")
    if len(raw) > MAX_COMMENT_LENGTH:
        raise InvalidAttributeError(
            f"comment is {len(raw)} characters; at most {MAX_COMMENT_LENGTH} allowed"
        )
    return raw
