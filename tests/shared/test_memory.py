"""shared.memory: free heap pages go back to the OS after a burst of allocations."""

from __future__ import annotations

import platform

import pytest
import structlog

from shared.memory import release_free_memory, resident_bytes

GLIBC = platform.system() == "Linux" and platform.libc_ver()[0] == "glibc"
MB = 1_000_000


@pytest.mark.skipif(not GLIBC, reason="malloc_trim is glibc's (CI runs on Debian)")
def test_pages_freed_among_live_objects_are_handed_back_and_said_so() -> None:
    # 1 KB objects come from malloc (over pymalloc's 512 bytes); keeping every tenth
    # leaves the freed ones as holes below the heap's top, which glibc keeps by itself.
    burst = [bytes(1024) for _ in range(60_000)]
    kept = burst[::10]
    del burst
    before = resident_bytes()
    with structlog.testing.capture_logs() as logs:
        assert release_free_memory(after="a test burst") is True
    after = resident_bytes()
    assert before is not None
    assert after is not None
    assert before - after > 20 * MB, (before, after)
    [line] = [entry for entry in logs if entry["event"] == "memory.released"]
    assert line["after"] == "a test burst"
    assert line["released_mb"] > 20
    assert line["resident_mb"] == pytest.approx(after / MB, abs=1.0)
    assert len(kept) == 6_000  # alive until here: the holes stay holes


def test_resident_bytes_reads_this_process() -> None:
    resident = resident_bytes()
    assert resident is not None
    assert resident > 10 * MB  # an interpreter with pytest loaded
