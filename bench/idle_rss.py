"""Resident memory of each idle service process after start-up (VmRSS from /proc).

Each run starts the whole system afresh (`bench.system`: nats-server, emulators,
the four services as OS processes) once per tailnet size (`--devices`: intake and
grants hold the inventory in memory), waits until everything is ready and quiet
(grants has synced the inventory, intake has loaded it), idles a few seconds more,
and reads /proc/<pid>/status of each service: VmRSS now, and VmHWM (the peak
since start, for context). nats-server's is shown too; it has no target.

    python -m bench.idle_rss [--runs N] [--quick] [--devices 1000,10000] [--idle SECONDS]
"""

from __future__ import annotations

import argparse
import asyncio
import math
from typing import Any

from bench.procfs import peak_rss_mb, rss_mb
from bench.report import Report, RunFigures, Target, parse_args
from bench.system import running_system
from shared.permissions import SERVICES

NAME = "idle_rss"
TITLE = "idle RSS per service"
TARGET_MB = 100.0


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--devices",
        default="1000,10000",
        help="tailnet sizes, comma-separated (1000,10000)",
    )
    parser.add_argument(
        "--idle", type=float, default=None, help="seconds idle before reading (5; --quick 2)"
    )


async def one_run(devices: int, idle: float) -> tuple[RunFigures, dict[str, Any]]:
    """Figures named `<process>_rss_mb@<devices>`."""
    async with running_system(requesters=5, devices=devices) as system:
        await system.settle(quiet=1.0, limit=30.0)
        await asyncio.sleep(idle)
        figures: RunFigures = {}
        peaks: dict[str, float] = {}
        for name, pid in system.pids().items():
            if name == "bench+emulators":
                continue
            now = rss_mb(pid)
            figures[f"{name}_rss_mb@{devices}"] = math.nan if now is None else now
            peaks[name] = peak_rss_mb(pid) or math.nan
        for name, peak in peaks.items():
            figures[f"{name}_peak_rss_mb@{devices}"] = peak
        return figures, {"pids": system.pids()}


def main() -> None:
    args = parse_args(__doc__ or TITLE, extra=_options)
    idle = args.idle if args.idle is not None else (2.0 if args.quick else 5.0)
    sizes = [int(x) for x in args.devices.split(",") if x.strip()]
    report = Report(
        NAME,
        TITLE,
        params={"runs": args.runs, "quick": args.quick, "devices": sizes, "idle_s": idle},
        targets=[
            Target(
                f"{service}_rss_mb@{size}", f"{service} idle RSS @{size:,} devices", TARGET_MB, "MB"
            )
            for size in sizes
            for service in SERVICES
        ],
    )
    report.notes.append("MB = 10^6 bytes; *_peak_rss_mb is VmHWM (peak since start-up)")
    report.header()
    for _ in range(args.runs):
        figures: RunFigures = {}
        details: dict[str, Any] = {}
        for size in sizes:
            found, details[str(size)] = asyncio.run(one_run(size, idle))
            figures.update(found)
        report.add_run(figures, details)
    report.finish(args.results_dir)


if __name__ == "__main__":
    main()
