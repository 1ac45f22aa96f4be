"""The running dev stack's `siem` login, so `accessbot audit` works there as printed.

`accessbot dev` generates fresh NATS passwords on every run. While it runs it keeps
the siem user's URL and password in a 0600 file of its data dir (removed at stop);
`accessbot audit` reads it when no NATS_PASSWORD is set and NATS_URL is unset or
names the same server.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from pydantic import SecretStr

FILE_NAME = "siem-credentials.json"


def default_data_dir() -> Path:
    """Under the user's state dir, overridable with ACCESSBOT_DATA_DIR."""
    override = os.environ.get("ACCESSBOT_DATA_DIR")
    if override:
        return Path(override)
    return Path(platformdirs.user_state_dir("accessbot")) / "dev"


@dataclass(frozen=True)
class DevLogin:
    """Where and as whom the dev stack's SIEM feed is read."""

    url: str
    user: str
    password: SecretStr
    path: Path


def write_login(data_dir: Path, *, url: str, user: str, password: str) -> Path:
    """Create the file readable by its owner only (never world-readable, even briefly)."""
    path = data_dir / FILE_NAME
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as file:
        json.dump({"url": url, "user": user, "password": password}, file)
    return path


def remove_login(data_dir: Path) -> None:
    """At dev's stop: the passwords die with the server."""
    (data_dir / FILE_NAME).unlink(missing_ok=True)


def read_login(data_dir: Path | None = None) -> DevLogin | None:
    """The running dev stack's login, or None when there is none (or it is unreadable)."""
    path = (data_dir or default_data_dir()) / FILE_NAME
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return DevLogin(
            url=str(data["url"]),
            user=str(data["user"]),
            password=SecretStr(str(data["password"])),
            path=path,
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None
