"""`accessbot demo`: a scripted request through approval to expiry, with its timeline."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine
from datetime import timedelta

from accessbot.cli_args import duration, folder, port
from accessbot.demo_console import Watch
from accessbot.sandbox import DEFAULT_CONSOLE_PORT
from shared.logging import configure_from_env
from shared.reachability import StoppedError, until_stopped

# The demo waits for the grant to expire: long enough to watch, short enough to wait for.
DEMO_DURATION_MIN = timedelta(seconds=1)
DEMO_DURATION_MAX = timedelta(hours=1)
STOP_SECONDS = 8.0  # services stop within 5 s, then the emulators and NATS
EXIT_STOPPED = 130  # the shell's code for "ended by Ctrl-C"


def _run(args: argparse.Namespace) -> int:
    from accessbot.demo import run_demo

    seconds = int(args.duration.total_seconds())
    configure_from_env("demo")
    watch = Watch()
    console_port = args.console_port if args.console else None
    try:
        return asyncio.run(
            _stoppable(
                lambda: run_demo(
                    duration_seconds=seconds,
                    data_dir=args.data_dir,
                    out=sys.stdout,
                    console_port=console_port,
                    watch=watch,
                ),
                watch,
            )
        )
    except (TimeoutError, RuntimeError) as exc:
        print(f"demo failed: {exc}", file=sys.stderr)
        return 1


async def _stoppable(demo: Callable[[], Coroutine[None, None, int]], watch: Watch) -> int:
    """Ctrl-C or SIGTERM stops the demo and everything it started (its `finally`);
    once the demo is over and only the console is open, it just closes it."""
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, watch.interrupt)
    try:
        return await until_stopped(demo(), watch.stopping, grace=STOP_SECONDS)
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
    parser.add_argument(
        "--console",
        action="store_true",
        help="show the demo in the sandbox console (a browser page) at a pace a person can "
        "follow; it stays open afterwards until Ctrl-C",
    )
    parser.add_argument(
        "--console-port",
        type=port,
        default=DEFAULT_CONSOLE_PORT,
        help=f"the console's port with --console (default {DEFAULT_CONSOLE_PORT})",
    )
    parser.set_defaults(func=_run)
