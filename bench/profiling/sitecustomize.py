"""cProfile inside a service process, switched on and off by the benchmark.

A service started with this folder first on PYTHONPATH and ACCESSBOT_BENCH_PROFILE
set to a file path imports this at start-up (Python imports `sitecustomize` from
the path by itself). SIGUSR1 starts profiling, SIGUSR2 stops it and writes the
pstats file, so the profile covers exactly the benchmark's measured window.
Only the main thread is profiled, which is where the asyncio loop runs. Times are the
process's CPU time (`time.process_time`), not wall time: on two shared cores a wall clock
charges every syscall with the time the process waited to be scheduled again, which hides
where the CPU per flow goes.
"""

from __future__ import annotations

import cProfile
import os
import signal
import time
from types import FrameType

_OUT = os.environ.get("ACCESSBOT_BENCH_PROFILE")


def _install(out: str) -> None:
    profiler = cProfile.Profile(time.process_time)

    def start(signum: int, frame: FrameType | None) -> None:
        profiler.enable()

    def stop(signum: int, frame: FrameType | None) -> None:
        profiler.disable()
        profiler.dump_stats(out)

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)


if _OUT:
    _install(_OUT)
