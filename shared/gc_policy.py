"""How a service process uses CPython's cyclic garbage collector.

With CPython's default thresholds (700, 10, 10) the notifier spent about 6% of its CPU
in the collector (docs/architecture.md, "Cost per flow"): a young-generation pass every
700 net allocations, most of whose objects would have been freed by reference counting
a moment later, and each full pass (about 50 ms) walking the 100,000 objects that
importing and building the service left behind and that live as long as the process.
So each service process:
- collects its young generation every GEN0_THRESHOLD net allocations instead (a bound:
  garbage in reference cycles still goes, a pass scans at most that many new objects);
- once started, collects what starting left over and freezes the rest (`gc.freeze`:
  modules, clients, settings), which no later pass scans again.
The older generations keep CPython's ratios.
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000


def tune() -> None:
    """Collect the young generation every GEN0_THRESHOLD net allocations."""
    _, older, oldest = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, older, oldest)


def freeze_started() -> int:
    """Free start-up garbage, then leave every object alive now out of later passes;
    how many objects that froze."""
    gc.collect()
    gc.freeze()
    return gc.get_freeze_count()
