"""How `scripts/test` spreads the suite over pytest-xdist workers.

Tests go to workers one by one, except that a module whose tests share a module-scoped
fixture (one harness of services, one browser; defined in the module or a conftest.py
above it) runs whole on one worker: the fixture starts once, and a test may build on what
the previous one left (e.g. a spent daily budget). pytest-xdist's own `loadgroup` would
express this with a marker, but it renames items through an attribute pytest 9.2 no
longer reads; a scheduler that decides from the node id does not depend on it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from xdist.scheduler import LoadScopeScheduling

TESTS_DIR = Path(__file__).resolve().parent
SHARED_SCOPES = frozenset({"module", "class", "package"})


@cache
def defines_shared_fixture(path: Path) -> bool:
    """Whether the file defines a fixture with a scope wider than one test."""
    try:
        tree = ast.parse(path.read_text(encoding="utf-8"))
    except (OSError, SyntaxError):
        return False
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for decorator in node.decorator_list:
            if not isinstance(decorator, ast.Call):
                continue
            for keyword in decorator.keywords:
                value = keyword.value
                if (
                    keyword.arg == "scope"
                    and isinstance(value, ast.Constant)
                    and value.value in SHARED_SCOPES
                ):
                    return True
    return False


@cache
def keeps_together(module: str) -> bool:
    """Whether the module at `module` (relative to the rootdir) must run on one worker."""
    path = (TESTS_DIR.parent / module).resolve()
    if defines_shared_fixture(path):
        return True
    folder = path.parent
    while folder == TESTS_DIR or TESTS_DIR in folder.parents:
        if defines_shared_fixture(folder / "conftest.py"):
            return True
        folder = folder.parent
    return False


class TestsOrSharedModules(LoadScopeScheduling):
    """A test is its own unit of work, unless its module keeps its tests together."""

    def _split_scope(self, nodeid: str) -> str:
        module = nodeid.split("::", 1)[0]
        return module if keeps_together(module) else nodeid
