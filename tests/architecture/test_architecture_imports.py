"""The house rules on imports, checked over the source tree.

- A service never imports another service.
- Domain logic imports neither FastStream, nats-py, Slack's clients nor an HTTP library:
  only the edge modules (composition root, subscribers, stores, gateways, transports)
  touch I/O. Block Kit builders may use `slack_sdk.models` (pure data classes) and
  `slack_sdk.errors` (the exceptions those models raise; no I/O).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import REPO_ROOT

SERVICES_DIR = REPO_ROOT / "services"
IO_LIBRARIES = ("faststream", "nats", "slack_sdk", "httpx", "aiohttp")
PURE_SLACK_SDK = ("slack_sdk.models", "slack_sdk.errors")
EDGE_MODULES = {
    "bootstrap.py",  # the composition root
    "subscribers.py",  # FastStream subscribers: translate and delegate
    "store.py",  # KV compare-and-set
    "devices.py",  # approvals' read-only KV lookups
    "inventory_sync.py",  # grants: tailnet -> KV
    "device_watch.py",  # intake: KV watch -> in-memory index
    "slack_gateway.py",  # the Slack Web API
    "transport_http.py",  # intake's /slack/events
    "transport_socket.py",  # intake's Socket Mode client
    "client.py",  # grants' Tailscale HTTP client
}


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append(node.module)
    return found


def _service_modules() -> list[Path]:
    return sorted(p for p in SERVICES_DIR.rglob("*.py") if "__pycache__" not in p.parts)


def test_every_service_has_its_composition_root() -> None:
    for service in ("intake", "approvals", "grants", "notifier"):
        assert (SERVICES_DIR / service / "bootstrap.py").is_file(), service
        assert (SERVICES_DIR / service / "__main__.py").is_file(), service


@pytest.mark.parametrize("path", _service_modules(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_service_imports_another(path: Path) -> None:
    own = path.relative_to(SERVICES_DIR).parts[0]
    foreign = [m for m in _imports(path) if m.startswith("services.") and m.split(".")[1] != own]
    assert foreign == []


@pytest.mark.parametrize("path", _service_modules(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_domain_modules_do_no_io(path: Path) -> None:
    if path.name in EDGE_MODULES:
        return
    offending = [
        m
        for m in _imports(path)
        if m.split(".")[0] in IO_LIBRARIES and not m.startswith(PURE_SLACK_SDK)
    ]
    assert offending == [], f"{path.name} is domain logic; move I/O to an edge module"


def test_shared_contracts_import_no_service() -> None:
    for path in (REPO_ROOT / "shared").rglob("*.py"):
        assert not [m for m in _imports(path) if m.startswith("services")], path
