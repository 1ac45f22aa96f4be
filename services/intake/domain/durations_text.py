"""Durations as people read them in Slack ("30 minutes", "8 hours", "1h30m")."""

from __future__ import annotations

from datetime import timedelta

from shared.durations import format_duration

_UNITS = ((86400, "day"), (3600, "hour"), (60, "minute"))


def human_duration(value: timedelta) -> str:
    """Whole units in words; mixed units fall back to the compact form."""
    seconds = int(value.total_seconds())
    for size, word in _UNITS:
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {word}{'' if count == 1 else 's'}"
    return format_duration(value)
