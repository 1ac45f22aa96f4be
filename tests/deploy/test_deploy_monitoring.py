"""deploy/: the `monitoring` profile scrapes every service and charts only real series."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client import REGISTRY

import services.approvals.metrics
import services.grants.adapters.tailscale.metrics
import services.grants.metrics
import shared.metrics.events
import shared.metrics.exposition
import shared.metrics.slack
from tests.conftest import REPO_ROOT
from tests.deploy.test_deploy_compose import MONITORING, SERVICES, _config

MONITORING_DIR = REPO_ROOT / "deploy" / "monitoring"
DASHBOARD = MONITORING_DIR / "grafana" / "dashboards" / "accessbot.json"
# Imported for their side effect: every series is registered, as in some service process.
DEFINING_MODULES = (
    services.approvals.metrics,
    services.grants.metrics,
    services.grants.adapters.tailscale.metrics,
    shared.metrics.events,
    shared.metrics.exposition,
    shared.metrics.slack,
)


@pytest.fixture
def resolved(tmp_path: Path) -> dict[str, Any]:
    result: subprocess.CompletedProcess[str] = _config(tmp_path)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def _series_names() -> set[str]:
    """Every sample name the services can expose (histograms as _bucket/_sum/_count)."""
    return (
        {sample.name for family in REGISTRY.collect() for sample in family.samples}
        | {family.name for family in REGISTRY.collect()}
        | {
            f"{family.name}{suffix}"
            for family in REGISTRY.collect()
            for suffix in ("_total", "_bucket", "_sum", "_count")
        }
    )


@pytest.mark.e2e
def test_monitoring_runs_the_official_images_only_in_its_profile(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert re.fullmatch(r"prom/prometheus:v\d+\.\d+\.\d+", services["prometheus"]["image"])
    assert re.fullmatch(r"grafana/grafana:\d+\.\d+\.\d+", services["grafana"]["image"])
    for name in MONITORING:
        assert services[name]["profiles"] == ["monitoring"]
        ports = services[name].get("ports", [])
        # Debian's docker-compose prints "ip:host:container"; Compose v2 a mapping.
        published = [p.get("host_ip", "") if isinstance(p, dict) else str(p) for p in ports]
        assert published
        assert all(p.startswith("127.0.0.1") for p in published), published
    for name in ("nats", *SERVICES):
        assert "profiles" not in services[name], name


def test_prometheus_scrapes_each_service_on_the_images_health_port() -> None:
    config = yaml.safe_load((MONITORING_DIR / "prometheus.yml").read_text(encoding="utf-8"))
    [job] = config["scrape_configs"]
    assert job["metrics_path"] == "/metrics"
    [static] = job["static_configs"]
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text(encoding="utf-8")
    port = re.search(r"HEALTH_PORT=(\d+)", dockerfile)
    assert port
    assert sorted(static["targets"]) == sorted(f"{s}:{port.group(1)}" for s in SERVICES)


def test_grafana_is_provisioned_with_the_prometheus_of_the_profile() -> None:
    provisioning = MONITORING_DIR / "grafana" / "provisioning"
    sources = yaml.safe_load((provisioning / "datasources" / "prometheus.yml").read_text())
    [source] = sources["datasources"]
    assert source["url"] == "http://prometheus:9090"
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    uids = {t["datasource"]["uid"] for p in dashboard["panels"] for t in p["targets"]}
    assert uids == {source["uid"]}


def test_every_series_the_dashboard_charts_exists() -> None:
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [t["expr"] for panel in dashboard["panels"] for t in panel["targets"]]
    used = {name for expr in exprs for name in re.findall(r"\baccessbot_[a-z_]+", expr)}
    assert used
    assert used <= _series_names(), used - _series_names()
    # and every accessbot series is on some panel
    defined = {f.name for f in REGISTRY.collect() if f.name.startswith("accessbot_")}
    defined.discard("accessbot_metrics_refresh_failures")
    charted = {re.sub(r"_(total|bucket|sum|count)$", "", name) for name in used}
    assert defined <= charted, defined - charted
