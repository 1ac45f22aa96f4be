"""What the in-process benchmarks share: a service's logging and collector, its lines discarded."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable

from bench.report import Report, RunFigures
from shared import gc_policy
from shared.logging import configure_logging


def run_as_service(
    report: Report, runs: int, service: str, one_run: Callable[[], RunFigures]
) -> None:
    """`runs` runs of `one_run`, each one's figures printed as it ends.

    Logging is configured as `service` configures it (JSON lines to stderr), with stderr
    pointed at /dev/null meanwhile: every line costs what it costs in the service and
    none reaches the terminal. The collector runs as in a service process
    (`shared.gc_policy`, as `shared.runtime` sets it).
    """
    devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115 - for the whole run
    stderr, sys.stderr = sys.stderr, devnull
    try:
        configure_logging(service, fmt="json")
        gc_policy.tune()
        for _ in range(runs):
            figures = one_run()
            sys.stderr = stderr
            report.add_run(figures)
            sys.stderr = devnull
    finally:
        sys.stderr = stderr
        devnull.close()
