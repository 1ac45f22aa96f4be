"""`accessbot audit tail|export`: the event stream for a SIEM, as CloudEvents JSON lines."""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
from datetime import UTC, datetime

from accessbot.dev_credentials import read_login
from shared.connection import connect
from shared.permissions import SIEM_USER
from shared.settings import ServiceSettings


def _moment(text: str) -> datetime:
    """RFC 3339, or a date; naive values are taken as UTC."""
    value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _settings() -> ServiceSettings:
    overrides: dict[str, object] = {}
    if not os.environ.get("NATS_USER"):
        overrides["nats_user"] = SIEM_USER
    overrides.update(_dev_login())
    return ServiceSettings.model_validate(overrides)


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

    nc = await connect(_settings(), name="audit-export")
    try:
        counts = await export(nc, since=args.since, until=args.until)
    finally:
        await nc.close()
    print(f"exported {counts.written} events", file=sys.stderr)
    if counts.invalid:
        print(f"{counts.invalid} stored messages were not valid events", file=sys.stderr)
        return 1
    return 0


async def _tail(args: argparse.Namespace) -> int:
    from accessbot.audit import tail

    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    nc = await connect(_settings(), name="audit-tail")
    try:
        counts = await tail(nc, since=args.since, stop=stopping.is_set)
    finally:
        await nc.close()
    return 1 if counts.invalid else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `audit tail` and `audit export` to the `accessbot` parser."""
    audit = sub.add_parser(
        "audit",
        help="read the event stream as the read-only siem user (NATS_URL, NATS_PASSWORD)",
    )
    audit_sub = audit.add_subparsers(dest="audit_command", required=True)
    tail = audit_sub.add_parser("tail", help="print new events as they happen")
    tail.add_argument("--since", type=_moment, default=None, help="start from this time")
    tail.set_defaults(func=lambda a: asyncio.run(_tail(a)))
    export = audit_sub.add_parser("export", help="print stored events between two times")
    export.add_argument("--since", type=_moment, default=None)
    export.add_argument("--until", type=_moment, default=None)
    export.add_argument("--format", choices=["jsonl"], default="jsonl")
    export.set_defaults(func=lambda a: asyncio.run(_export(a)))
