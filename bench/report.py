"""What every benchmark shares: command line, statistics, targets and the JSON result.

A benchmark measures a few named figures per run (`RunFigures`), prints them as it
goes, and hands them to `Report`, which prints the median across runs with the
spread (min-max), says which targets are met or missed (and by how much), and
writes bench/results/<name>.json for `python -m bench.run_all`.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

RESULTS_DIR = Path(__file__).resolve().parent / "results"
RESULT_FORMAT = 1

RunFigures = dict[str, float]
"""One run's figures by metric name (milliseconds, MB, flows/s...)."""


# -- statistics ------------------------------------------------------------------------


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), linear between closest ranks (numpy's default)."""
    if not values:
        return math.nan
    ordered = sorted(values)
    if len(ordered) == 1:
        return float(ordered[0])
    rank = (len(ordered) - 1) * q / 100.0
    low = math.floor(rank)
    high = min(low + 1, len(ordered) - 1)
    return float(ordered[low] + (ordered[high] - ordered[low]) * (rank - low))


def latency_figures(prefix: str, seconds: Sequence[float]) -> RunFigures:
    """`<prefix>_p50_ms`, `<prefix>_p99_ms` and `<prefix>_max_ms` of latencies in seconds."""
    ms = [1000.0 * s for s in seconds]
    return {
        f"{prefix}_p50_ms": percentile(ms, 50),
        f"{prefix}_p99_ms": percentile(ms, 99),
        f"{prefix}_max_ms": max(ms) if ms else math.nan,
    }


@dataclass(frozen=True)
class Spread:
    """A figure across runs."""

    median: float
    low: float
    high: float
    runs: int

    @classmethod
    def of(cls, values: Iterable[float]) -> Spread:
        finite = [v for v in values if not math.isnan(v)]
        if not finite:
            return cls(math.nan, math.nan, math.nan, 0)
        return cls(statistics.median(finite), min(finite), max(finite), len(finite))


def fmt(value: float, unit: str = "") -> str:
    """A figure with a sensible number of digits."""
    value = float(value)
    if math.isnan(value):
        return "n/a"
    if not unit and value.is_integer() and abs(value) < 1e12:  # a count
        return f"{int(value):,}"
    digits = 0 if abs(value) >= 100 else 1 if abs(value) >= 10 else 2
    text = f"{value:,.{digits}f}"
    return f"{text} {unit}".rstrip() if unit else text


def fmt_spread(spread: Spread, unit: str = "") -> str:
    """`12.3 ms (10.1-15.2)`: the median, then min-max across runs."""
    if spread.runs == 0:
        return "n/a"
    if spread.runs == 1:
        return fmt(spread.median, unit)
    return f"{fmt(spread.median, unit)} ({fmt(spread.low)}-{fmt(spread.high)})"


# -- targets ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Target:
    """A goal for one metric: below `limit` (latency, memory) or at least `limit` (rate)."""

    metric: str
    label: str
    limit: float
    unit: str
    at_least: bool = False

    def describe(self) -> str:
        return f"{'>=' if self.at_least else '<'} {fmt(self.limit, self.unit)}"

    def check(self, value: float) -> Verdict:
        if math.isnan(value):
            return Verdict(self, value, met=False, margin=math.nan, text="NO FIGURE")
        met = value >= self.limit if self.at_least else value < self.limit
        margin = value - self.limit
        share = abs(margin) / self.limit * 100 if self.limit else math.nan
        if met:
            text = f"met ({fmt(abs(margin), self.unit)} to spare)"
        else:
            worse = "short" if self.at_least else "over"
            text = f"MISSED by {fmt(abs(margin), self.unit)} ({share:.0f}% {worse})"
        return Verdict(self, value, met=met, margin=margin, text=text)


@dataclass(frozen=True)
class Verdict:
    """A target against the median across runs."""

    target: Target
    value: float
    met: bool
    margin: float
    text: str


# -- command line -------------------------------------------------------------------------


def parse_args(
    description: str,
    *,
    default_runs: int = 5,
    quick_runs: int = 2,
    extra: Callable[[argparse.ArgumentParser], None] | None = None,
    argv: Sequence[str] | None = None,
) -> argparse.Namespace:
    """--runs N, --quick, --output DIR, plus the benchmark's own options."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument(
        "--runs",
        type=int,
        default=None,
        help=f"runs (default {default_runs}; --quick {quick_runs})",
    )
    parser.add_argument(
        "--quick", action="store_true", help="fewer, smaller runs: a smoke check, not a figure"
    )
    parser.add_argument(
        "--results-dir", type=Path, default=RESULTS_DIR, help="where <name>.json is written"
    )
    if extra is not None:
        extra(parser)
    args = parser.parse_args(argv)
    if args.runs is None:
        args.runs = quick_runs if args.quick else default_runs
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    return args


# -- machine ----------------------------------------------------------------------------------


def loadavg() -> list[float]:
    """1, 5 and 15-minute load averages (empty where /proc is missing)."""
    try:
        return [float(x) for x in Path("/proc/loadavg").read_text().split()[:3]]
    except OSError:
        return []


def machine() -> dict[str, Any]:
    """What the figures were measured on."""
    return {
        "cpus": os.cpu_count(),
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "loadavg": loadavg(),
    }


# -- the report ---------------------------------------------------------------------------------


@dataclass
class Report:
    """Collects runs; `finish` prints the summary and writes the JSON result."""

    name: str
    title: str
    params: dict[str, Any]
    targets: list[Target] = field(default_factory=list)
    units: dict[str, str] = field(default_factory=dict)
    runs: list[RunFigures] = field(default_factory=list)
    details: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    started_at: str = field(default_factory=lambda: datetime.now(UTC).isoformat())
    _machine_before: dict[str, Any] = field(default_factory=machine)
    _t0: float = field(default_factory=time.monotonic)

    def header(self) -> None:
        """What is measured, with what parameters, on what machine."""
        m = self._machine_before
        print(f"== {self.title}")
        print(f"   {m['cpus']} CPUs, Python {m['python']}, load average {m['loadavg']}")
        print(f"   parameters: {json.dumps(self.params, default=str)}")

    def add_run(
        self, figures: RunFigures, detail: dict[str, Any] | None = None, *, show: bool = True
    ) -> None:
        """Record one run (and print its figures)."""
        self.runs.append(figures)
        self.details.append(detail or {})
        if show:
            print(f"-- run {len(self.runs)}:")
            for metric, value in figures.items():
                print(f"   {metric:<44} {fmt(value, self.unit(metric))}")

    def unit(self, metric: str) -> str:
        if metric in self.units:
            return self.units[metric]
        base = metric.split("@", 1)[0]  # `name@size`: a figure per size
        if base.endswith("_ms"):
            return "ms"
        if base.endswith("_mb"):
            return "MB"
        return ""

    def summary(self) -> dict[str, Spread]:
        metrics: dict[str, None] = {}
        for run in self.runs:
            metrics.update(dict.fromkeys(run))
        return {m: Spread.of(run.get(m, math.nan) for run in self.runs) for m in metrics}

    def verdicts(self) -> list[Verdict]:
        summary = self.summary()
        return [
            t.check(summary[t.metric].median if t.metric in summary else math.nan)
            for t in self.targets
        ]

    def finish(self, results_dir: Path = RESULTS_DIR) -> Path:
        """Print the median (min-max) of every figure and the targets; write the JSON."""
        summary = self.summary()
        print(f"== {self.title}: median (min-max) across {len(self.runs)} run(s)")
        for metric, spread in summary.items():
            print(f"   {metric:<44} {fmt_spread(spread, self.unit(metric))}")
        verdicts = self.verdicts()
        if verdicts:
            print("== targets (median across runs)")
            for v in verdicts:
                print(
                    f"   {v.target.label:<44} {fmt(v.value, v.target.unit):>12}  "
                    f"target {v.target.describe():<12} {v.text}"
                )
        for note in self.notes:
            print(f"   note: {note}")
        load = loadavg()
        print(f"   load average now {load} (busy machine: treat figures as indicative)")
        results_dir.mkdir(parents=True, exist_ok=True)
        path = results_dir / f"{self.name}.json"
        result = {
            "format": RESULT_FORMAT,
            "name": self.name,
            "title": self.title,
            "started_at": self.started_at,
            "finished_at": datetime.now(UTC).isoformat(),
            "elapsed_s": round(time.monotonic() - self._t0, 1),
            "machine": {**self._machine_before, "loadavg_after": load},
            "params": self.params,
            "units": {m: self.unit(m) for m in summary},
            "runs": self.runs,
            "run_details": self.details,
            "summary": {m: asdict(s) for m, s in summary.items()},
            "targets": [
                {
                    "metric": v.target.metric,
                    "label": v.target.label,
                    "limit": v.target.limit,
                    "unit": v.target.unit,
                    "at_least": v.target.at_least,
                    "value": v.value,
                    "met": v.met,
                    "margin": v.margin,
                    "verdict": v.text,
                }
                for v in verdicts
            ],
            "notes": self.notes,
        }
        path.write_text(json.dumps(_clean(result), indent=2, default=str) + "\n")
        print(f"   written {path}")
        return path


def _clean(value: Any) -> Any:
    """JSON has no NaN: a missing figure is null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value
