"""RFC 3339 timestamps the way Tailscale's Go backend reads and writes them."""

from __future__ import annotations

import re
from datetime import UTC, datetime

# Go's time.RFC3339 parser: a 'T' separator and an explicit zone are mandatory.
_RFC3339_RE = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$"
)


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp into an aware UTC datetime; ValueError otherwise."""
    match = _RFC3339_RE.match(text)
    if match is None:
        raise ValueError(f"{text!r} is not an RFC 3339 timestamp")
    year, month, day, hour, minute, second = (int(g) for g in match.groups()[:6])
    fraction, zone = match.group(7), match.group(8)
    micros = int((fraction[1:] + "000000")[:6]) if fraction else 0
    offset = "+00:00" if zone in ("Z", "z") else zone
    iso = (
        f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
        f".{micros:06d}{offset}"
    )
    return datetime.fromisoformat(iso).astimezone(UTC)


def format_rfc3339(moment: datetime) -> str:
    """Format like Go's RFC3339Nano in UTC: `Z` suffix, no trailing fractional zeros."""
    utc = moment.astimezone(UTC).replace(tzinfo=None)
    if utc.microsecond:
        return utc.isoformat(timespec="microseconds").rstrip("0") + "Z"
    return utc.isoformat(timespec="seconds") + "Z"


def to_datetime(value: float | datetime) -> datetime:
    """Normalise a clock reading (epoch seconds or datetime) to an aware UTC datetime."""
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise ValueError("clock returned a naive datetime; give it a timezone")
        return value.astimezone(UTC)
    return datetime.fromtimestamp(value, UTC)
