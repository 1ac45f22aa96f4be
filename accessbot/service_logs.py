"""What a service's JSON log says about why it stopped, for `accessbot dev` to print.

A service that fails to start says why in one line and exits: a JSON error line once
logging runs (`service.start_failed`, a refused password, a taken health port), or
`<service>: <problem>` before it (bad settings or profiles, `shared.startup`). dev
names that line beside the exit code, so a person sees the cause without the log.
"""

from __future__ import annotations

import json
from pathlib import Path

TAIL_BYTES = 64 * 1024  # the last lines only: a log can be large, the cause is at its end
MAX_CHARS = 300  # one terminal line or two, never a traceback
FAILED_LEVELS = frozenset({"error", "critical"})


def last_error(log: Path, service: str) -> str | None:
    """The newest error in a service's log, `event (reason)` or the startup line's
    problem, or None."""
    try:
        with log.open("rb") as file:
            file.seek(max(0, file.seek(0, 2) - TAIL_BYTES))
            tail = file.read().decode(errors="replace")
    except OSError:
        return None
    for line in reversed(tail.splitlines()):
        text = _error_in(line, f"{service}: ")
        if text is not None:
            return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1] + "…"
    return None


def _error_in(line: str, startup_prefix: str) -> str | None:
    if line.startswith(startup_prefix):
        return line.removeprefix(startup_prefix).strip()
    try:
        record = json.loads(line)
    except ValueError:
        return None  # a library's stray line or a traceback's: never printed
    if not isinstance(record, dict) or record.get("level") not in FAILED_LEVELS:
        return None
    said = str(record.get("event", "?"))
    why = record.get("reason") or record.get("hint")
    return f"{said} ({why})" if why else said
