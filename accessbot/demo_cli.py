"""`accessbot demo`: a scripted request through approval to expiry, with its timeline."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from accessbot.demo import run_demo

    try:
        return asyncio.run(
            run_demo(duration_seconds=args.duration, data_dir=args.data_dir, out=sys.stdout)
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
    parser.add_argument("--duration", type=int, default=10, help="grant length in seconds")
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.set_defaults(func=_run)
