"""What every service does before it runs: read settings and build itself, or exit
with one line (exit code 2) naming the bad environment variable or profiles.yaml problem.

One path for all four services, so `accessbot serve X` and `python -m services.X` fail
alike: a person sees one line, never a traceback and never a secret's value.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from typing import Any, NoReturn, TypeVar

from pydantic import ValidationError
from pydantic_settings import BaseSettings

from shared.profiles import ProfilesError

EXIT_INVALID = 2
S = TypeVar("S", bound=BaseSettings)
T = TypeVar("T")


class StartupError(Exception):
    """A configuration problem, said in one line."""


def _variable(loc: tuple[int | str, ...]) -> str:
    # The settings models use no prefix and no aliases: the variable is the field upper-cased.
    return ".".join(str(part) for part in loc).upper()


def describe_settings_error(exc: ValidationError) -> str:
    """One line naming each bad variable; input values are left out (they may be secrets)."""
    parts: list[str] = []
    for err in exc.errors(include_url=False, include_input=False):
        name = _variable(tuple(err["loc"]))
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing":
            parts.append(f"{name} is not set")
        elif name:
            parts.append(f"{name}: {message}")
        else:  # a model-level rule names its variables itself
            parts.append(message)
    return "invalid settings: " + "; ".join(parts)


def settings_from_env(model: type[S]) -> S:
    """The settings model read from the environment, or StartupError in one line."""
    try:
        return model()
    except ValidationError as exc:
        raise StartupError(describe_settings_error(exc)) from None


def exit_invalid(service: str, message: str) -> NoReturn:
    """Print `service: message` on stderr and exit 2."""
    sys.stderr.write(f"{service}: {' '.join(message.split())}\n")
    sys.stderr.flush()
    raise SystemExit(EXIT_INVALID)


def settings_or_exit(service: str, model: type[S]) -> S:
    """`settings_from_env`, exiting 2 with one line when the environment is wrong."""
    try:
        return settings_from_env(model)
    except StartupError as exc:
        exit_invalid(service, str(exc))


def build_or_exit(service: str, build: Callable[..., T], *args: Any) -> T:
    """Build the service, exiting 2 with one line when profiles.yaml is missing or invalid."""
    try:
        return build(*args)
    except ProfilesError as exc:
        exit_invalid(service, exc.one_line())
