"""`accessbot demo`: a scripted request through approval to expiry, with its timeline."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Coroutine
from pathlib import Path

from shared.logging import configure_from_env
from shared.reachability import StoppedError, until_stopped

STOP_SECONDS = 8.0  # services stop within 5 s, then the emulators and NATS
EXIT_STOPPED = 130  # the shell's code for "ended by Ctrl-C"


def _run(args: argparse.Namespace) -> int:
    from accessbot.demo import run_demo

    configure_from_env("demo")
    try:
        return asyncio.run(
            _stoppable(
                run_demo(duration_seconds=args.duration, data_dir=args.data_dir, out=sys.stdout)
            )
        )
    except (TimeoutError, RuntimeError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1


async def _stoppable(demo: Coroutine[None, None, int]) -> int:
    """Ctrl-C or SIGTERM stops the demo and everything it started (its `finally`)."""
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopping.set)
    try:
        return await until_stopped(demo, stopping, grace=STOP_SECONDS)
    except StoppedError:
        print("accessbot demo: stopped, and so is everything it started", file=sys.stderr)
        return EXIT_STOPPED


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
