"""`accessbot audit` picks up a running `accessbot dev`'s siem login only when nothing
else says where or as whom to connect."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from accessbot.audit_command import _settings
from accessbot.dev_credentials import read_login, remove_login, write_login

URL = "nats://127.0.0.1:4999"


@pytest.fixture
def dev_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    for name in ("NATS_URL", "NATS_USER", "NATS_PASSWORD"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("ACCESSBOT_DATA_DIR", str(tmp_path))
    write_login(tmp_path, url=URL, user="siem", password="pw-of-dev")
    return tmp_path


def test_the_login_file_is_private_and_goes_at_stop(dev_dir: Path) -> None:
    path = dev_dir / "siem-credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    remove_login(dev_dir)
    assert read_login(dev_dir) is None


def test_audit_uses_the_dev_login_when_nothing_is_set(
    dev_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings()
    assert (settings.nats_url, settings.nats_user) == (URL, "siem")
    assert settings.nats_password is not None
    assert settings.nats_password.get_secret_value() == "pw-of-dev"
    assert f"siem login from {dev_dir / 'siem-credentials.json'}" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("name", "value"),
    [("NATS_URL", "nats://elsewhere:4222"), ("NATS_PASSWORD", "given"), ("NATS_USER", "admin")],
)
def test_an_explicit_setting_wins_over_the_dev_login(
    dev_dir: Path, monkeypatch: pytest.MonkeyPatch, name: str, value: str
) -> None:
    monkeypatch.setenv(name, value)
    settings = _settings()
    password = settings.nats_password.get_secret_value() if settings.nats_password else None
    assert password != "pw-of-dev"


def test_an_unreadable_login_file_is_ignored(dev_dir: Path) -> None:
    (dev_dir / "siem-credentials.json").write_text("{broken", encoding="utf-8")
    assert read_login(dev_dir) is None
    assert _settings().nats_password is None
