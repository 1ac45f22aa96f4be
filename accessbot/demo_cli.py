"""`accessbot demo`: a scripted request through approval to expiry, with its timeline."""

from __future__ import annotations

import argparse
import asyncio
import sys
from datetime import timedelta

from accessbot.cli_args import duration, folder

# The demo waits for the grant to expire: long enough to watch, short enough to wait for.
DEMO_DURATION_MIN = timedelta(seconds=1)
DEMO_DURATION_MAX = timedelta(hours=1)


def _run(args: argparse.Namespace) -> int:
    from accessbot.demo import run_demo

    seconds = int(args.duration.total_seconds())
    try:
        return asyncio.run(
            run_demo(duration_seconds=seconds, data_dir=args.data_dir, out=sys.stdout)
        )
    except (TimeoutError, RuntimeError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command to the `accessbot` parser."""
    parser = sub.add_parser(
        "demo",
        help="run one scripted request from the Slack shortcut to expiry against the "
        "emulators and print what happened",
    )
    parser.add_argument(
        "--duration",
        type=duration(minimum=DEMO_DURATION_MIN, maximum=DEMO_DURATION_MAX),
        default=timedelta(seconds=10),
        help="how long the grant lasts, e.g. 10s, 2m or 1h (default 10s; whole seconds)",
    )
    parser.add_argument(
        "--data-dir",
        type=folder,
        default=None,
        help="where NATS data and logs go (default: a new temporary folder)",
    )
    parser.set_defaults(func=_run)
