"""The contracts (`shared/contracts/`) stand apart from the runtime that moves them.

A SIEM reader, a test or another tool can import them without FastStream, NATS, Slack or
the services; they lean only on pure helpers named below.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

CONTRACTS = REPO_ROOT / "shared" / "contracts"
PURE_HELPERS = {
    "shared.ids",  # ULID event ids: part of the envelope
    "shared.tracecontext",  # the traceparent header's format
    "shared.slack_limits",  # MAX_REASON: the reason limit is Slack's input limit
}


def _imports(path: Path) -> list[str]:
    found: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def _runtime(module: str) -> bool:
    top = module.split(".", maxsplit=1)[0]
    if top in ("services", "accessbot", "emulators", "faststream", "nats", "slack_sdk"):
        return True
    if top in ("httpx", "aiohttp", "structlog", "prometheus_client", "opentelemetry"):
        return True
    return top == "shared" and not (module.startswith("shared.contracts") or module in PURE_HELPERS)


@pytest.mark.parametrize("path", sorted(CONTRACTS.glob("*.py")), ids=lambda p: p.name)
def test_contracts_import_no_runtime(path: Path) -> None:
    assert [m for m in _imports(path) if _runtime(m)] == []


def test_messages_envelope_and_subjects_live_in_the_contracts() -> None:
    names = {p.stem for p in CONTRACTS.glob("*.py")}
    assert {"events", "cloudevents", "subjects"} <= names
