"""What `accessbot demo` does: a scripted request through approval to expiry, with its
timeline (the arguments: `demo_cli`)."""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
from collections.abc import Callable, Coroutine

from accessbot.demo_console import STOP_TIMEOUT_SECONDS as CONSOLE_STOP_SECONDS
from accessbot.demo_console import Watch
from accessbot.harness import HARNESS_STOP_SECONDS
from shared.logging import configure_from_env
from shared.reachability import StoppedError, until_stopped

# The console, then everything else, each bounded (SIGKILL at the limit), and a second
# for this process to exit: Ctrl-C ends the demo within this, however loaded the machine.
STOP_SECONDS = CONSOLE_STOP_SECONDS + HARNESS_STOP_SECONDS + 1.0
EXIT_STOPPED = 130  # the shell's code for "ended by Ctrl-C"


def run(args: argparse.Namespace) -> int:
    """`accessbot demo`."""
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
        return await until_stopped(demo(), watch.stopping, grace=STOP_SECONDS, recancel=True)
    except StoppedError:
        print("accessbot demo: stopped, and so is everything it started", file=sys.stderr)
        return EXIT_STOPPED
