"""`accessbot deadletter list|replay`: messages a consumer gave up on, and re-delivering them.

Runs as the admin NATS user (NATS_URL, NATS_PASSWORD; NATS_USER defaults to admin):
only the admin may publish replays.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from typing import TextIO

from nats.aio.client import Client
from nats.errors import Error as NatsError

from shared.connection import connect
from shared.deadletter import DeadLetterRecord, clip_error
from shared.permissions import ADMIN_USER
from shared.settings import ServiceSettings

EXIT_UNKNOWN = 2
ERROR_COLUMN_CHARS = 60
_COLUMNS = ("EVENT ID", "CONSUMER", "SUBJECT", "SEQ", "DELIVERIES", "RECORDED", "LAST ERROR")


def _settings() -> ServiceSettings:
    overrides: dict[str, object] = {}
    if not os.environ.get("NATS_USER"):
        overrides["nats_user"] = ADMIN_USER
    return ServiceSettings.model_validate(overrides)


def _row(record: DeadLetterRecord) -> tuple[str, ...]:
    return (
        record.event_id or f"{record.consumer}:{record.stream_sequence}",
        record.consumer,
        record.subject,
        f"{record.stream}:{record.stream_sequence}",
        str(record.deliveries),
        record.recorded_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        clip_error(" ".join(record.last_error.split()), ERROR_COLUMN_CHARS),
    )


def print_records(records: list[DeadLetterRecord], *, as_json: bool, out: TextIO) -> None:
    """A table (or one JSON object per line) of dead letters."""
    if as_json:
        for record in records:
            out.write(json.dumps(record.model_dump(mode="json"), separators=(",", ":")) + "\n")
        return
    if not records:
        out.write("no dead-lettered messages\n")
        return
    rows = [_COLUMNS, *(_row(r) for r in records)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(_COLUMNS) - 1)]
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        out.write("  ".join([*cells, row[-1]]).rstrip() + "\n")


_server_errors: list[str] = []


async def _remember(exc: Exception) -> None:
    """nats-py's error callback: keep what the server said for the one-line error."""
    _server_errors.append(str(exc))


async def _connect(name: str) -> Client | None:
    settings = _settings()
    try:
        return await connect(
            settings,
            name=name,
            allow_reconnect=False,
            # nats-py reads 0 as "no limit" while picking a server: 1 tries each URL twice.
            max_reconnect_attempts=1,
            error_cb=_remember,
        )
    except (OSError, NatsError) as exc:
        print(
            f"accessbot deadletter: cannot reach NATS at {settings.nats_url}: {exc}",
            file=sys.stderr,
        )
        return None


def _refused(exc: Exception) -> int:
    said = _server_errors[-1] if _server_errors else type(exc).__name__
    print(
        f"accessbot deadletter: NATS refused or did not answer ({said}); "
        f"it needs the admin NATS user (NATS_USER={ADMIN_USER}, its NATS_PASSWORD)",
        file=sys.stderr,
    )
    return 1


async def _list(args: argparse.Namespace) -> int:
    from shared.deadlettering import pending_records

    nc = await _connect("deadletter-list")
    if nc is None:
        return 1
    try:
        records = [s.record for s in await pending_records(nc.jetstream())]
    except (NatsError, TimeoutError) as exc:
        return _refused(exc)
    finally:
        await nc.close()
    print_records(records, as_json=args.json, out=sys.stdout)
    return 0


async def _replay(args: argparse.Namespace) -> int:
    from shared.deadlettering import ReplayError, replay

    nc = await _connect("deadletter-replay")
    if nc is None:
        return 1
    try:
        replayed = await replay(nc.jetstream(), args.event_id)
    except ReplayError as exc:
        print(f"accessbot deadletter replay: {exc}", file=sys.stderr)
        return EXIT_UNKNOWN
    except (NatsError, TimeoutError) as exc:
        return _refused(exc)
    finally:
        await nc.close()
    for record in replayed:
        print(f"replayed {args.event_id} to {record.consumer} ({record.service})")
    return 0


def run_list(args: argparse.Namespace) -> int:
    """`accessbot deadletter list`."""
    return asyncio.run(_list(args))


def run_replay(args: argparse.Namespace) -> int:
    """`accessbot deadletter replay`."""
    return asyncio.run(_replay(args))
