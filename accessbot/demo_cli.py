"""`accessbot demo`: the arguments (what it does: `demo_command`)."""

from __future__ import annotations

import argparse
from datetime import timedelta

from accessbot.cli_args import duration, folder, port, run_later
from accessbot.sandbox_ports import DEFAULT_CONSOLE_PORT

# The demo waits for the grant to expire: long enough to watch, short enough to wait for.
DEMO_DURATION_MIN = timedelta(seconds=1)
DEMO_DURATION_MAX = timedelta(hours=1)


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
    parser.set_defaults(func=run_later("accessbot.demo_command", "run"))
