"""Test tiers: every test gets exactly one, derived from what it uses, and proven by what it does.

- `unit`: pure code in one process (the default).
- `handlers`: a service's handlers with in-memory fakes of its ports (a fixture or class
  from a `fakes` module, e.g. tests/approvals/fakes.py, or the marker).
- `emulator`: the Slack or Tailscale emulator served in the test process (under
  tests/emulators/, a module that imports an emulator, or the marker).
- `nats`: a real nats-server (the `nats_server` fixture, or the marker).
- `e2e`: child processes: Accessbot's commands and services, a fresh interpreter, deploy
  tools (under tests/e2e/, or the marker).

An explicit marker may only raise a test's tier, never lower it below what its fixtures
show. While a test runs, an audit hook records every process started and every network
socket opened, and the test fails when that contradicts its tier (a `unit` test that
opens a socket, a `nats` test that starts something other than nats-server, ...): a tier
cannot silently drift from the truth. `slow` stays a separate marker.
"""

from __future__ import annotations

import inspect
import socket
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

TIERS = ("unit", "handlers", "emulator", "nats", "e2e")  # cheapest first
DESCRIPTIONS = {
    "unit": "pure code in one process: no socket, no child process",
    "handlers": "service handlers with in-memory fakes of their ports (no socket)",
    "emulator": "against the Slack or Tailscale emulator served in the test process",
    "nats": "a real nats-server (the nats_server fixture)",
    "e2e": "child processes: the CLI, services, a fresh interpreter, deploy tools",
}
TESTS_DIR = Path(__file__).resolve().parent
NATS_FIXTURES = frozenset({"nats_server"})
NATS_SERVER_BINARY = "nats-server"


def _rank(tier: str) -> int:
    return TIERS.index(tier)


def _under(item: pytest.Item, folder: str) -> bool:
    return (TESTS_DIR / folder) in Path(str(item.path)).parents


def _is_fake(module_name: str) -> bool:
    return module_name.rsplit(".", 1)[-1] == "fakes"


def _uses_fakes(item: pytest.Item) -> bool:
    """A fixture defined in a `fakes` module, or a fake imported into the test's module."""
    info = getattr(item, "_fixtureinfo", None)
    fixtures = [] if info is None else [f for defs in info.name2fixturedefs.values() for f in defs]
    if any(_is_fake(getattr(f.func, "__module__", "") or "") for f in fixtures):
        return True
    module = getattr(item, "module", None)
    return module is not None and any(
        (inspect.isclass(value) or inspect.isfunction(value)) and _is_fake(value.__module__)
        for value in vars(module).values()
    )


def _imports_an_emulator(item: pytest.Item) -> bool:
    module = getattr(item, "module", None)
    if module is None:
        return False
    return any(
        inspect.isclass(value)
        and value.__module__.startswith("emulators.")
        and value.__name__.endswith("Emulator")
        for value in vars(module).values()
    )


def derived_tier(item: pytest.Item) -> str:
    """The least tier the test's location and fixtures show."""
    if _under(item, "e2e"):
        return "e2e"
    if NATS_FIXTURES & set(getattr(item, "fixturenames", ())):
        return "nats"
    if _under(item, "emulators") or _imports_an_emulator(item):
        return "emulator"
    if _uses_fakes(item):
        return "handlers"
    return "unit"


def assign_tiers(items: list[pytest.Item]) -> None:
    """Give every item one tier marker; a contradiction stops collection."""
    problems: list[str] = []
    for item in items:
        explicit = {m.name for m in item.iter_markers() if m.name in TIERS}
        derived = derived_tier(item)
        if len(explicit) > 1:
            problems.append(f"{item.nodeid}: more than one tier: {sorted(explicit)}")
            continue
        tier = explicit.pop() if explicit else derived
        if _rank(tier) < _rank(derived):
            problems.append(
                f"{item.nodeid}: marked {tier!r}, but what it uses makes it {derived!r}"
            )
            continue
        if not explicit:
            item.add_marker(getattr(pytest.mark, tier))
        tiers = [m.name for m in item.iter_markers() if m.name in TIERS]
        if len(set(tiers)) != 1:
            problems.append(f"{item.nodeid}: no single tier ({tiers})")
    if problems:
        raise pytest.UsageError("test tiers (tests/tiers.py):\n  " + "\n  ".join(problems))


def tier_of(item: pytest.Item) -> str:
    """The tier collection gave the item."""
    return next(m.name for m in item.iter_markers() if m.name in TIERS)


@dataclass
class Observed:
    """What one test did that its tier must allow."""

    processes: list[str] = field(default_factory=list)
    sockets: list[str] = field(default_factory=list)

    def violation(self, tier: str) -> str | None:
        """Why what was observed does not fit `tier`, or None."""
        others = [p for p in self.processes if NATS_SERVER_BINARY not in p]
        if others and tier != "e2e":
            return f"started a child process ({others[0]}): its tier is e2e"
        if self.processes and _rank(tier) < _rank("nats"):
            return f"started nats-server ({self.processes[0]}): its tier is nats"
        if self.sockets and _rank(tier) < _rank("emulator"):
            return f"opened a network socket ({self.sockets[0]}): it is not {tier}"
        return None


_current: Observed | None = None
_SPAWNS = frozenset({"subprocess.Popen", "os.posix_spawn", "os.exec", "os.system"})
_NETWORK = frozenset({socket.AF_INET, socket.AF_INET6})


def _audit(event: str, args: tuple[Any, ...]) -> None:
    observed = _current
    if observed is None:
        return
    if event in _SPAWNS:
        observed.processes.append(_command(event, args))
    elif event in ("socket.bind", "socket.connect") and args[0].family in _NETWORK:
        observed.sockets.append(f"{event} {args[1]!r}")


def _command(event: str, args: tuple[Any, ...]) -> str:
    if event == "subprocess.Popen":  # (executable, args, cwd, env)
        argv = args[1]
        words = [argv] if isinstance(argv, str | bytes) else list(argv or ())
        return " ".join(str(w) for w in words)[:200] or str(args[0])
    return str(args[0])[:200]


sys.addaudithook(_audit)


@pytest.fixture(autouse=True)
def tier_is_true(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fails the test when what it did does not fit its tier (set up before any other
    function fixture, so what fixtures start is seen too)."""
    global _current  # noqa: PLW0603 - the audit hook is process-wide; it needs one slot
    outer, observed = _current, Observed()
    _current = observed
    try:
        yield
    finally:
        _current = outer  # a pytest run inside a test (pytester) hands the slot back
    problem = observed.violation(tier_of(request.node))
    if problem:
        pytest.fail(f"tier {tier_of(request.node)!r}: {problem} (tests/tiers.py)", pytrace=False)
