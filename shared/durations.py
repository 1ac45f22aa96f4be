"""Human durations (`30m`, `8h`, `1h30m`, `2d`) as used in profiles.yaml and Slack."""

from __future__ import annotations

import re
from datetime import timedelta

_PART_RE = re.compile(r"(\d+)([smhdw])")
_WHOLE_RE = re.compile(r"^(?:\d+[smhdw])+$")
_UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}

# What the request form offers, up to the profile's maximum.
PRESETS: tuple[timedelta, ...] = (
    timedelta(minutes=15),
    timedelta(minutes=30),
    timedelta(hours=1),
    timedelta(hours=2),
    timedelta(hours=4),
    timedelta(hours=8),
    timedelta(hours=12),
    timedelta(days=1),
    timedelta(days=3),
    timedelta(days=7),
)


def parse_duration(text: str) -> timedelta:
    """Parse `1h30m` style text; raise ValueError with the accepted form otherwise."""
    compact = text.strip().lower().replace(" ", "")
    if not compact or not _WHOLE_RE.match(compact):
        raise ValueError(f"{text!r} is not a duration such as 30m, 8h, 1h30m or 1d")
    seconds = sum(int(n) * _UNIT_SECONDS[u] for n, u in _PART_RE.findall(compact))
    if seconds <= 0:
        raise ValueError(f"{text!r} must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest exact text for a duration, e.g. `1h30m`, `2d`."""
    seconds = int(value.total_seconds())
    if seconds <= 0:
        return "0s"
    parts: list[str] = []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        count, seconds = divmod(seconds, size)
        if count:
            parts.append(f"{count}{unit}")
    return "".join(parts)


def presets_up_to(maximum: timedelta) -> list[timedelta]:
    """The preset durations not longer than `maximum`, plus `maximum` itself if not a preset."""
    chosen = [p for p in PRESETS if p <= maximum]
    if maximum not in chosen:
        chosen.append(maximum)
    return chosen
