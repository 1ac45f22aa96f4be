"""Domain modules stay plain Python: no broker, no NATS, no Slack client."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import services.notifier

PACKAGE = Path(services.notifier.__file__).parent
DOMAIN = [
    "approver_message",
    "audit_messages",
    "context",
    "formatting",
    "message_parts",
    "notices",
    "plan",
    "record",
    "request_view",
    "requester_message",
    "slack_errors",
    "slack_message",
]
FORBIDDEN = ("faststream", "nats", "slack_sdk.web", "slack_sdk.http_retry", "aiohttp", "httpx")


def _imports(module: str) -> set[str]:
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


@pytest.mark.parametrize("module", DOMAIN)
def test_domain_module_imports_no_io(module: str) -> None:
    bad = {name for name in _imports(module) if name.startswith(FORBIDDEN)}
    assert not bad, f"{module} imports {sorted(bad)}"


def test_no_module_imports_another_service() -> None:
    for path in PACKAGE.glob("*.py"):
        others = {
            name
            for name in _imports(path.stem)
            if name.startswith("services.") and not name.startswith("services.notifier")
        }
        assert not others, f"{path.name} imports {sorted(others)}"
