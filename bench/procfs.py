"""Process figures from /proc (no psutil): resident memory and CPU time."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field
from pathlib import Path

_CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def status_kb(pid: int, key: str) -> int | None:
    """A `kB` line of /proc/<pid>/status (VmRSS, VmHWM...), or None when unreadable."""
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return None


def rss_mb(pid: int) -> float | None:
    """Resident set size (VmRSS) in MB (10^6 bytes), or None."""
    kb = status_kb(pid, "VmRSS")
    return None if kb is None else kb * 1024 / 1e6


def peak_rss_mb(pid: int) -> float | None:
    """Peak resident set size (VmHWM) in MB, or None."""
    kb = status_kb(pid, "VmHWM")
    return None if kb is None else kb * 1024 / 1e6


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time the process has used so far, or None."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name (field 2) may hold spaces: split after its closing parenthesis.
    fields = raw[raw.rindex(")") + 2 :].split()
    utime, stime = int(fields[11]), int(fields[12])
    return (utime + stime) / _CLOCK_TICKS


@dataclass
class CpuMeter:
    """CPU use of named processes over a window, as a share of one core (100 = one core)."""

    pids: dict[str, int]
    _start: dict[str, float] = field(default_factory=dict)
    _t0: float = 0.0

    def start(self) -> None:
        self._t0 = time.monotonic()
        self._start = {n: s for n, p in self.pids.items() if (s := cpu_seconds(p)) is not None}

    def stop(self) -> dict[str, float]:
        """Percent of one core each process used since `start` (200 = both of two cores)."""
        wall = max(time.monotonic() - self._t0, 1e-9)
        shares: dict[str, float] = {}
        for name, pid in self.pids.items():
            now = cpu_seconds(pid)
            if now is not None and name in self._start:
                shares[name] = 100.0 * (now - self._start[name]) / wall
        return shares
