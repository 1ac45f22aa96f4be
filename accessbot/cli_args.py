"""Argument types and the parser of the `accessbot` command.

Every misuse ends the same way: exit 2 and one line on stderr, in words a person can act
on (never a parameter's internal name, never a traceback).
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import NoReturn
from urllib.parse import urlsplit, urlunsplit

from shared.durations import format_duration, parse_duration

EXIT_INVALID = 2
PORT_MAX = 65535
_NUMBER_RE = re.compile(r"^\d+(?:\.\d+)?$")


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line (what is wrong, and where help is)."""

    def error(self, message: str) -> NoReturn:
        """Exit 2 with `prog: message (see 'prog --help')`."""
        self.exit(EXIT_INVALID, f"{self.prog}: {message} (see '{self.prog} --help')\n")


def run_later(module: str, function: str) -> Callable[[argparse.Namespace], int]:
    """A command's handler, imported only when the command runs: `accessbot --help` and a
    mistyped option answer without loading nats-py, FastStream or the emulators."""

    def run(args: argparse.Namespace) -> int:
        handler: Callable[[argparse.Namespace], int] = getattr(
            importlib.import_module(module), function
        )
        return handler(args)

    return run


def usage_error(prog: str, message: str) -> int:
    """For a misuse found after parsing: one line on stderr; returns exit code 2."""
    sys.stderr.write(f"{prog}: {message}\n")
    return EXIT_INVALID


def port(text: str) -> int:
    """A TCP port number, 1 to 65535."""
    if not text.isdigit() or not 1 <= int(text) <= PORT_MAX:
        raise argparse.ArgumentTypeError(f"{text!r} is not a port number (1 to {PORT_MAX})")
    return int(text)


def positive_int(text: str) -> int:
    """A whole number of at least 1."""
    if not text.isdigit() or int(text) < 1:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number of at least 1")
    return int(text)


def duration(*, minimum: timedelta, maximum: timedelta) -> Callable[[str], timedelta]:
    """A duration as profiles.yaml writes them (`30s`, `10m`, `1h30m`), or a bare number
    of seconds, between `minimum` and `maximum`."""

    def parse(text: str) -> timedelta:
        bare = text.strip()
        try:
            value = (
                timedelta(seconds=float(bare)) if _NUMBER_RE.match(bare) else parse_duration(bare)
            )
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{text!r} is not a duration such as 30s, 10m or 1h30m"
            ) from None
        if not minimum <= value <= maximum:
            bounds = f"{format_duration(minimum)} and {format_duration(maximum)}"
            raise argparse.ArgumentTypeError(f"{text!r} must be between {bounds}")
        return value

    return parse


def moment(text: str) -> datetime:
    """A point in time: ISO 8601 (`2026-03-01`, `2026-03-01T09:30:00Z`; no zone means UTC),
    or a duration back from now (`1h` is an hour ago)."""
    bare = text.strip()
    try:
        return datetime.now(UTC) - parse_duration(bare)
    except ValueError:
        pass
    try:
        value = datetime.fromisoformat(bare.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is neither a time such as 2026-03-01 or 2026-03-01T09:30:00Z "
            "nor a duration ago such as 30m, 1h or 2d"
        ) from None
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def output_file(text: str) -> Path:
    """A file to write, in a folder that exists."""
    path = Path(text)
    folder = path.parent
    if not folder.is_dir():
        raise argparse.ArgumentTypeError(f"folder {str(folder)!r} does not exist")
    if path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a folder, not a file")
    return path


def folder(text: str) -> Path:
    """A folder to use or create (not an existing file)."""
    path = Path(text)
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text!r} is a file, not a folder")
    return path


def write_output(path: Path, text: str, *, prog: str) -> int:
    """Write `text` to `path`; 0, or 2 with one line when the file cannot be written."""
    try:
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        return usage_error(prog, f"cannot write {path}: {exc.strerror}")
    print(f"wrote {path}")
    return 0


def base_url(text: str) -> str:
    """An http(s) URL; a bare `http://host:port` (or any path not ending in /readyz or
    /healthz) gets `/readyz` appended."""
    parts = urlsplit(text.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a URL such as http://127.0.0.1:8081 (http:// or https://)"
        )
    path = parts.path
    if not path.endswith(("/readyz", "/healthz")):
        path = path.rstrip("/") + "/readyz"
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, ""))
