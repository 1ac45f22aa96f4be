"""What `accessbot audit tail|export` do: the event stream for a SIEM, as CloudEvents JSON
lines (the arguments: `audit_cli`)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from collections.abc import Coroutine
from dataclasses import dataclass

import structlog
from nats.aio.client import Client
from nats.errors import Error as NatsError
from pydantic import ValidationError

from accessbot.cli_args import usage_error
from accessbot.dev_credentials import read_login
from shared.connection import connect, reachability_for
from shared.logging import configure_from_env
from shared.permissions import SIEM_USER
from shared.reachability import (
    NatsReachability,
    NatsRefusedError,
    StoppedError,
    describe_failure,
    until_stopped,
)
from shared.settings import ServiceSettings
from shared.startup import describe_settings_error, exit_invalid

EXIT_REFUSED = 2
CLOSE_SECONDS = 2.0
log = structlog.get_logger("accessbot.audit")


def _settings() -> ServiceSettings:
    overrides: dict[str, object] = {}
    if not os.environ.get("NATS_USER"):
        overrides["nats_user"] = SIEM_USER
    overrides.update(_dev_login())
    try:
        return ServiceSettings.model_validate(overrides)
    except ValidationError as exc:
        exit_invalid("accessbot audit", describe_settings_error(exc))


def _dev_login() -> dict[str, object]:
    """A running `accessbot dev`'s siem login, when nothing else names a password."""
    if os.environ.get("NATS_PASSWORD") or os.environ.get("NATS_USER"):
        return {}
    login = read_login()
    if login is None or os.environ.get("NATS_URL", login.url) != login.url:
        return {}
    print(f"using the dev stack's siem login from {login.path}", file=sys.stderr)
    return {"nats_url": login.url, "nats_user": login.user, "nats_password": login.password}


async def _export(args: argparse.Namespace) -> int:
    from accessbot.audit import export

    if args.since is not None and args.until is not None and args.since > args.until:
        return usage_error(
            "accessbot audit export",
            f"--since {args.since:%Y-%m-%dT%H:%M:%SZ} is after --until "
            f"{args.until:%Y-%m-%dT%H:%M:%SZ}: no event could match",
        )
    session = await _open("audit-export")
    if isinstance(session, int):
        return session
    try:
        exporting = export(session.nc, since=args.since, until=args.until)
        counts = await until_stopped(exporting, session.stopping)
    except StoppedError:
        print("export interrupted: what was printed is incomplete", file=sys.stderr)
        return 1
    except NatsError as exc:
        return _failed(exc)
    finally:
        await session.close()
    print(f"exported {counts.written} events", file=sys.stderr)
    if counts.invalid:
        print(f"{counts.invalid} stored messages were not valid events", file=sys.stderr)
        return 1
    return 0


async def _tail(args: argparse.Namespace) -> int:
    from accessbot.audit import tail

    session = await _open("audit-tail")
    if isinstance(session, int):
        return session
    try:
        counts = await tail(session.nc, since=args.since, stop=session.stopping.is_set)
    except NatsError as exc:
        return _failed(exc)
    finally:
        await session.close()
    return 1 if counts.invalid else 0


def _failed(exc: NatsError) -> int:
    """JetStream said no (e.g. no ACCESS stream before the services first ran)."""
    log.error("audit.failed", reason=describe_failure(exc))
    return 1


@dataclass(frozen=True)
class _Session:
    """A siem connection, how it is reported, and the signal that ends the command."""

    nc: Client
    reach: NatsReachability
    stopping: asyncio.Event

    async def close(self) -> None:
        """Close, but not for longer than a signal's patience (NATS may be gone by now)."""
        self.reach.closing()
        with contextlib.suppress(TimeoutError, OSError, NatsError):
            await asyncio.wait_for(self.nc.close(), timeout=CLOSE_SECONDS)


async def _open(name: str) -> _Session | int:
    """Settings, signals and the connection every audit command starts with; an exit
    code instead when there is nothing to read from (see `_connect_or_stop`)."""
    settings = _settings()
    stopping = _on_signal()
    reach = reachability_for(settings)
    nc = await _connect_or_stop(name, settings, reach, stopping)
    if isinstance(nc, int):
        return nc
    return _Session(nc, reach, stopping)


def _on_signal() -> asyncio.Event:
    """An event SIGINT or SIGTERM sets (instead of interrupting the loop)."""
    event = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, event.set)
    return event


async def _connect_or_stop(
    name: str, settings: ServiceSettings, reach: NatsReachability, stopping: asyncio.Event
) -> Client | int:
    """Connect as siem, saying where at once and why not every few seconds; an exit
    code instead when a signal came first (0) or the password was refused (2)."""
    reach.announce()
    try:
        return await until_stopped(connect(settings, name=name, reachability=reach), stopping)
    except StoppedError:
        return 0
    except NatsRefusedError as exc:
        log.error("%s", exc, hint="set NATS_USER and NATS_PASSWORD (the siem user's)")
        return EXIT_REFUSED


def _run(command: Coroutine[None, None, int]) -> int:
    configure_from_env("audit")
    return asyncio.run(command)


def run_tail(args: argparse.Namespace) -> int:
    """`accessbot audit tail`."""
    return _run(_tail(args))


def run_export(args: argparse.Namespace) -> int:
    """`accessbot audit export`."""
    return _run(_export(args))
