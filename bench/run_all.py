"""Run every benchmark, then print a markdown table of the latest figures against the targets.

Each benchmark runs as its own process (`python -m bench.<name>`, with --runs / --quick
passed on) and writes bench/results/<name>.json; the table is built from those files,
so `--table-only` reprints it from the last results without measuring again.

    python -m bench.run_all [--runs N] [--quick] [--only a,b] [--table-only]
"""

from __future__ import annotations

import argparse
import json
import math
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from bench.report import RESULTS_DIR, fmt

# Cheapest first: a broken system shows up before the long ones start.
BENCHMARKS = (
    "idle_rss",
    "device_search",
    "approve_to_applied",
    "retry_isolation",
    "intake_ack",
    "throughput",
)
TIMEOUT_SECONDS = 45 * 60


def _args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=None, help="runs per benchmark")
    parser.add_argument("--quick", action="store_true", help="smoke check: fewer, smaller runs")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {BENCHMARKS}")
    parser.add_argument("--table-only", action="store_true", help="print the table, run nothing")
    parser.add_argument("--results-dir", type=Path, default=RESULTS_DIR)
    args = parser.parse_args()
    chosen = [b for b in args.only.split(",") if b] or list(BENCHMARKS)
    unknown = sorted(set(chosen) - set(BENCHMARKS))
    if unknown:
        parser.error(f"unknown benchmark(s) {unknown}; choose from {BENCHMARKS}")
    args.chosen = chosen
    return args


def run(name: str, args: argparse.Namespace) -> int:
    """One benchmark in its own process; its exit code (124 on timeout)."""
    command = [sys.executable, "-m", f"bench.{name}", "--results-dir", str(args.results_dir)]
    if args.runs is not None:
        command += ["--runs", str(args.runs)]
    if args.quick:
        command.append("--quick")
    print(f"\n##### {' '.join(command[1:])}", flush=True)
    started = time.monotonic()
    try:
        code = subprocess.run(command, timeout=TIMEOUT_SECONDS, check=False).returncode  # noqa: S603
    except subprocess.TimeoutExpired:
        print(f"##### bench.{name} did not finish in {TIMEOUT_SECONDS} s", flush=True)
        return 124
    print(f"##### bench.{name}: exit {code} after {time.monotonic() - started:.0f} s", flush=True)
    return code


def _spread(summary: dict[str, Any], metric: str, unit: str) -> str:
    spread = summary.get(metric) or {}
    median, low, high = (spread.get(k) for k in ("median", "low", "high"))
    if median is None:
        return "n/a"
    if spread.get("runs", 0) <= 1 or low is None or high is None:
        return fmt(median, unit)
    return f"{fmt(median, unit)} ({fmt(low)}-{fmt(high)})"


def _status(target: dict[str, Any]) -> str:
    value = target.get("value")
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "no figure"
    if target.get("met"):
        return "met"
    margin, limit, unit = abs(target["margin"]), target["limit"], target["unit"]
    share = f", {100 * margin / limit:.0f}%" if limit else ""
    word = "short" if target.get("at_least") else "over"
    return f"**missed** ({fmt(margin, unit)} {word}{share})"


def table(names: list[str], results_dir: Path) -> str:
    """Markdown: one row per target, the median across runs with the min-max spread."""
    lines = [
        "| benchmark | figure | median (min-max) | target | status |",
        "| --- | --- | --- | --- | --- |",
    ]
    notes: list[str] = []
    for name in names:
        path = results_dir / f"{name}.json"
        if not path.exists():
            lines.append(f"| `{name}` | — | not run | — | — |")
            continue
        result = json.loads(path.read_text())
        params, machine = result.get("params", {}), result.get("machine", {})
        runs = len(result.get("runs", []))
        if params.get("quick"):
            notes.append(f"`{name}` was a --quick smoke run: not a figure to quote")
        notes.append(
            f"`{name}`: {runs} run(s), {result.get('finished_at', '?')[:16]}Z, "
            f"{machine.get('cpus', '?')} CPUs, load average before/after "
            f"{machine.get('loadavg', '?')}/{machine.get('loadavg_after', '?')}"
        )
        for target in result.get("targets", []):
            op = ">=" if target.get("at_least") else "<"
            lines.append(
                f"| `{name}` | {target['label']} | "
                f"{_spread(result.get('summary', {}), target['metric'], target['unit'])} | "
                f"{op} {fmt(target['limit'], target['unit'])} | {_status(target)} |"
            )
    return "\n".join([*lines, "", *(f"- {n}" for n in notes)])


def main() -> None:
    args = _args()
    failed = [] if args.table_only else [n for n in args.chosen if run(n, args) != 0]
    print("\n" + table(args.chosen, args.results_dir))
    if failed:
        print(f"\nfailed: {', '.join(failed)} (their rows show the previous results, if any)")
        sys.exit(1)


if __name__ == "__main__":
    main()
