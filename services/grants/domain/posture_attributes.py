"""Posture attributes as the API reads and writes them: values, expiries, RFC 3339."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

AttributeValue = bool | int | str

_FRACTION_RE = re.compile(r"\.(\d+)")
EXPIRY_TOLERANCE_SECONDS = 1.0


def format_expiry(moment: datetime) -> str:
    """RFC 3339 in UTC with whole seconds, the precision grants works in."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime:
    """Parse Tailscale's RFC 3339 (Go writes up to nanoseconds, which Python cannot hold)."""
    trimmed = _FRACTION_RE.sub(lambda m: "." + m.group(1)[:6].ljust(6, "0"), text.strip(), 1)
    moment = datetime.fromisoformat(trimmed.replace("z", "Z"))
    if moment.tzinfo is None:
        raise ValueError(f"{text!r} has no time zone")
    return moment.astimezone(UTC)


def same_value(found: object, wanted: AttributeValue) -> bool:
    """Equal with JSON types respected: `true` is not `1`."""
    if isinstance(wanted, bool) or isinstance(found, bool):
        return found is wanted
    return type(found) is type(wanted) and found == wanted


@dataclass(frozen=True, slots=True)
class DeviceAttributes:
    """What `GET /device/{id}/attributes` answered."""

    values: dict[str, Any] = field(default_factory=dict)
    expiries: dict[str, datetime] = field(default_factory=dict)

    @classmethod
    def from_json(cls, body: object) -> DeviceAttributes:
        """Read the response body; unreadable expiries are left out rather than guessed."""
        if not isinstance(body, dict):
            raise ValueError("attributes response is not a JSON object")
        values = body.get("attributes") or {}
        raw_expiries = body.get("expiries") or {}
        if not isinstance(values, dict) or not isinstance(raw_expiries, dict):
            raise ValueError("attributes response has a malformed 'attributes' or 'expiries'")
        expiries: dict[str, datetime] = {}
        for key, text in raw_expiries.items():
            try:
                expiries[str(key)] = parse_rfc3339(str(text))
            except ValueError:
                continue
        return cls(values=dict(values), expiries=expiries)

    def holds(self, key: str, value: AttributeValue, expiry: datetime | None) -> bool:
        """Whether `key` is set to `value` with (within a second) this `expiry`."""
        if key not in self.values or not same_value(self.values[key], value):
            return False
        found = self.expiries.get(key)
        if expiry is None or found is None:
            return expiry is None and found is None
        return abs((found - expiry).total_seconds()) <= EXPIRY_TOLERANCE_SECONDS
