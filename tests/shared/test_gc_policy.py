"""The collector policy every service process runs with (shared.gc_policy), checked in a
fresh interpreter: freezing inside the test process would change every later test."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from shared.gc_policy import GEN0_THRESHOLD
from tests.conftest import REPO_ROOT

pytestmark = pytest.mark.e2e

PROBE = textwrap.dedent(
    """
    import gc, json, weakref
    from shared import gc_policy

    default = gc.get_threshold()
    gc_policy.tune()
    tuned = gc.get_threshold()
    frozen = gc_policy.freeze_started()

    class Node:
        pass

    # A reference cycle made after the freeze is still garbage the collector frees.
    a, b = Node(), Node()
    a.other, b.other = b, a
    gone = weakref.ref(a)
    del a, b
    gc.collect()
    print(json.dumps({"default": default, "tuned": tuned, "frozen": frozen,
                      "count": gc.get_freeze_count(), "cycle_freed": gone() is None}))
    """
)


def test_tune_and_freeze_in_a_service_like_process() -> None:
    done = subprocess.run(  # noqa: S603 - a fixed script
        [sys.executable, "-c", PROBE],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    seen = json.loads(done.stdout)
    default, tuned = seen["default"], seen["tuned"]
    assert tuned == [GEN0_THRESHOLD, default[1], default[2]]  # older ratios kept
    assert seen["frozen"] == seen["count"] > 1_000  # what importing left alive
    assert seen["cycle_freed"]
