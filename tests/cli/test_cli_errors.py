"""Every misuse a person can make of `accessbot` ends in one line on stderr and exit 2.

Run as a person runs it (a subprocess, a clean environment without credentials), so
what is asserted is exactly what they see: the code, the one line, no traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
from pathlib import Path

import pytest

from accessbot.cli import build_parser
from accessbot.natsserver import env_without_secrets, free_port
from tests.conftest import ready_health_server

BROKEN_PROFILES = """\
profiles:
  - id: prod
    description: Production
    attribute: prodAccess
    approvals_required: 3
    approvers: {emails: [alice@example.com]}
"""


def accessbot(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "accessbot", *args],
        cwd=cwd,
        env={**env_without_secrets(), **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def assert_one_line_error(result: subprocess.CompletedProcess[str], *expected: str) -> str:
    assert result.returncode == 2, (result.returncode, result.stdout, result.stderr)
    assert "Traceback" not in result.stderr
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    for text in expected:
        assert text in lines[0], lines[0]
    return lines[0]


@pytest.fixture
def files(tmp_path: Path) -> Path:
    (tmp_path / "broken.yaml").write_text(BROKEN_PROFILES, encoding="utf-8")
    (tmp_path / "latin1.yaml").write_bytes("admins: [jos\xe9@example.com]\n".encode("latin-1"))
    return tmp_path


MISUSES: dict[str, tuple[list[str], dict[str, str], list[str]]] = {
    # name: (arguments, environment, texts the one line must hold)
    "intake_without_bot_token": (
        ["serve", "intake"],
        {"SLACK_APP_TOKEN": "xapp-1"},
        ["intake: ", "SLACK_BOT_TOKEN is not set"],
    ),
    "notifier_without_bot_token": (
        ["serve", "notifier"],
        {},
        ["notifier: ", "SLACK_BOT_TOKEN is not set"],
    ),
    "intake_socket_mode_without_app_token": (
        ["serve", "intake"],
        {"SLACK_BOT_TOKEN": "xoxb-1"},
        ["SLACK_APP_TOKEN is required when SLACK_MODE=socket"],
    ),
    "bad_health_port": (
        ["serve", "approvals"],
        {"HEALTH_PORT": "eighty"},
        ["approvals: invalid settings: HEALTH_PORT"],
    ),
    "serve_with_an_empty_nats_url": (
        ["serve", "approvals"],
        {"NATS_URL": " , "},
        ["approvals: invalid settings: NATS_URL: names no server"],
    ),
    "audit_tail_with_an_empty_nats_url": (
        ["audit", "tail"],
        {"NATS_URL": ""},
        ["accessbot audit: invalid settings: NATS_URL: names no server"],
    ),
    "serve_without_profiles": (
        ["serve", "approvals"],
        {"PROFILES_PATH": "absent.yaml"},
        ["approvals: absent.yaml: cannot read"],
    ),
    "serve_with_broken_profiles": (
        ["serve", "notifier"],
        {"PROFILES_PATH": "broken.yaml", "SLACK_BOT_TOKEN": "xoxb-1"},
        ["notifier: broken.yaml: profile 'prod': attribute:", "(and 1 more: run 'accessbot"],
    ),
    "serve_with_latin1_profiles": (
        ["serve", "approvals"],
        {"PROFILES_PATH": "latin1.yaml"},
        ["latin1.yaml: line 1: not UTF-8 text (byte 0xe9)"],
    ),
    "nats_config_into_missing_folder": (
        ["nats-config", "--output", "missing/nats.conf"],
        {},
        ["--output: folder 'missing' does not exist"],
    ),
    "asyncapi_into_missing_folder": (
        ["asyncapi", "--output", "missing/asyncapi.yaml"],
        {},
        ["--output: folder 'missing' does not exist"],
    ),
    "dev_port_out_of_range": (
        ["dev", "--nats-port", "99999"],
        {},
        ["accessbot dev: argument --nats-port: '99999' is not a port number (1 to 65535)"],
    ),
    "demo_zero_duration": (
        ["demo", "--duration", "0"],
        {},
        ["accessbot demo: argument --duration: '0' must be between 1s and 1h"],
    ),
    "demo_duration_not_a_duration": (
        ["demo", "--duration", "ten"],
        {},
        ["'ten' is not a duration such as 30s, 10m or 1h30m"],
    ),
    "audit_since_not_a_time": (
        ["audit", "tail", "--since", "yesterday"],
        {},
        ["argument --since: 'yesterday' is neither a time"],
    ),
    "audit_since_after_until": (
        ["audit", "export", "--since", "1h", "--until", "2h"],
        {},
        ["accessbot audit export: --since", "is after --until"],
    ),
    "audit_since_after_until_as_dates": (
        ["audit", "export", "--since", "2026-03-02", "--until", "2026-03-01T23:00:00Z"],
        {},
        ["--since 2026-03-02T00:00:00Z is after --until 2026-03-01T23:00:00Z"],
    ),
    "profiles_without_command": (["profiles"], {}, ["required: COMMAND"]),
    "dev_without_profiles": (
        ["dev", "--profiles", "absent.yaml"],
        {},
        ["accessbot dev: absent.yaml: cannot read", "pass --profiles PATH"],
    ),
    "demo_data_dir_is_a_file": (
        ["demo", "--data-dir", "broken.yaml"],
        {},
        ["--data-dir: 'broken.yaml' is a file, not a folder"],
    ),
    "unknown_service": (["serve", "mailer"], {}, ["invalid choice: 'mailer'"]),
    "health_url_without_scheme": (
        ["health", "intake", "--url", "localhost:8081"],
        {},
        ["'localhost:8081' is not a URL such as http://127.0.0.1:8081"],
    ),
    "health_timeout_not_a_duration": (
        ["health", "intake", "--url", "http://127.0.0.1:1", "--timeout", "soon"],
        {},
        ["--timeout: 'soon' is not a duration"],
    ),
}


@pytest.mark.e2e
@pytest.mark.parametrize("name", sorted(MISUSES))
def test_misuse_is_one_line_and_exit_2(files: Path, name: str) -> None:
    args, env, expected = MISUSES[name]
    line = assert_one_line_error(accessbot(*args, cwd=files, env=env), *expected)
    for internal in ("_moment", "profiles_command", "ValidationError", "pydantic"):
        assert internal not in line


@pytest.mark.e2e
def test_a_secret_value_never_reaches_the_error(files: Path) -> None:
    result = accessbot(
        "serve", "intake", cwd=files, env={"SLACK_BOT_TOKEN": "xoxb-s3cr3t", "SLACK_MODE": "x"}
    )
    assert_one_line_error(result, "SLACK_MODE")
    assert "s3cr3t" not in result.stderr


@pytest.mark.e2e
def test_profiles_check_of_a_non_utf8_file_exits_2(files: Path) -> None:
    result = accessbot("profiles", "check", "latin1.yaml", cwd=files)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert "latin1.yaml: line 1: not UTF-8 text (byte 0xe9)" in result.stderr


@pytest.mark.e2e
def test_version(tmp_path: Path) -> None:
    result = accessbot("--version", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.strip() == "accessbot 0.1.0"


def _options(parser: argparse.ArgumentParser, prog: str) -> list[tuple[str, argparse.Action]]:
    found: list[tuple[str, argparse.Action]] = []
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                found.extend(_options(child, f"{prog} {name}"))
        elif not isinstance(action, argparse._HelpAction):
            found.append((prog, action))
    return found


def test_every_option_and_argument_has_help() -> None:
    options = _options(build_parser(), "accessbot")
    assert len(options) >= 20  # every command walked, not just the top level
    missing = [f"{prog} {a.option_strings or a.dest}" for prog, a in options if not a.help]
    assert missing == []


@pytest.mark.e2e
async def test_health_takes_a_base_url_and_checks_who_answers(tmp_path: Path) -> None:
    port = free_port()
    server = await ready_health_server("approvals", port)
    try:
        base = f"http://127.0.0.1:{port}"
        ok = await asyncio.to_thread(accessbot, "health", "approvals", "--url", base, cwd=tmp_path)
        assert ok.returncode == 0, ok.stderr
        assert ok.stdout.strip() == "approvals: ready"
        wrong = await asyncio.to_thread(
            accessbot, "health", "intake", "--url", base + "/", cwd=tmp_path
        )
        assert_one_line_error(wrong, f"{base}/readyz is approvals's health endpoint, not intake's")
    finally:
        await server.stop()
