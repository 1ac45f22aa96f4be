"""The house rules on imports, checked over the source tree.

Every service has one shape (docs/architecture.md, "One service shape"):
`domain/` (pure: records, state machines, rules, Block Kit builders) < `ports.py`
(the protocols handlers depend on) < `handlers` (read -> decide -> compare-and-set ->
publish) < `adapters/` (NATS stores and watches, Slack and Tailscale gateways) <
`entrypoints/` (subscribers, HTTP, sockets) < `bootstrap.py` (the composition root).
import-linter checks the order through indirect imports too (pyproject.toml,
[tool.importlinter]); this module checks what it cannot see: the shape itself, and
which parts of slack_sdk the domain may use (only its pure models and errors).
"""

from __future__ import annotations

import ast
import logging
from pathlib import Path

import pytest
from importlinter import configuration
from importlinter.application.use_cases import lint_imports

from tests.conftest import REPO_ROOT

SERVICES_DIR = REPO_ROOT / "services"
SERVICES = ("intake", "approvals", "grants", "notifier")
IO_LIBRARIES = ("faststream", "nats", "slack_sdk", "httpx", "aiohttp")
PURE_SLACK_SDK = ("slack_sdk.models", "slack_sdk.errors")
# Beside the layers: how to run it, its settings, and its Prometheus series (in-process
# instruments the handlers update; they import only domain and ports).
OUTSIDE_THE_LAYERS = {"__init__.py", "__main__.py", "settings.py", "metrics.py", "README.md"}
LAYERS = {
    "domain",
    "ports.py",
    "handlers",
    "handlers.py",
    "adapters",
    "entrypoints",
    "bootstrap.py",
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


@pytest.mark.parametrize("service", SERVICES)
def test_every_service_has_the_same_shape(service: str) -> None:
    root = SERVICES_DIR / service
    present = {p.name for p in root.iterdir() if p.name != "__pycache__"}
    for part in ("domain", "adapters", "entrypoints"):
        assert (root / part / "__init__.py").is_file(), f"{service}/{part}/ is missing"
    for part in ("ports.py", "bootstrap.py", "__main__.py", "settings.py"):
        assert (root / part).is_file(), f"{service}/{part} is missing"
    # the service layer: one module, or a package when one module would be too long
    assert (root / "handlers.py").is_file() != (root / "handlers" / "__init__.py").is_file()
    assert present - LAYERS - OUTSIDE_THE_LAYERS == set(), "a module outside the layout"


def test_the_layers_hold_through_indirect_imports(capsys: pytest.CaptureFixture[str]) -> None:
    # import-linter's own checks, not its CLI: the CLI's `logging.config.dictConfig`
    # disables every logger that exists (slack_sdk's among them) for the rest of this
    # worker, and later tests reading those loggers' lines failed depending on the order.
    slack_logger = logging.getLogger("slack_sdk.web.async_base_client")
    configuration.configure()  # what the CLI module does when imported (its printer, readers)
    passed = lint_imports(config_filename=str(REPO_ROOT / "pyproject.toml"), cache_dir=None)
    assert not slack_logger.disabled  # nothing later in this process loses its log lines
    report = capsys.readouterr().out
    assert passed, report
    assert "7 kept, 0 broken" in report, report


@pytest.mark.parametrize("path", _service_modules(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_no_service_imports_another(path: Path) -> None:
    own = path.relative_to(SERVICES_DIR).parts[0]
    foreign = [m for m in _imports(path) if m.startswith("services.") and m.split(".")[1] != own]
    assert foreign == []


@pytest.mark.parametrize("path", _service_modules(), ids=lambda p: str(p.relative_to(REPO_ROOT)))
def test_domain_modules_do_no_io(path: Path) -> None:
    if path.relative_to(SERVICES_DIR).parts[1] != "domain":
        return
    offending = [
        m
        for m in _imports(path)
        if m.split(".")[0] in IO_LIBRARIES and not m.startswith(PURE_SLACK_SDK)
    ]
    assert offending == [], f"{path.name} is domain logic; move I/O to an adapter"


def test_shared_contracts_import_no_service() -> None:
    for path in (REPO_ROOT / "shared").rglob("*.py"):
        assert not [m for m in _imports(path) if m.startswith("services")], path
