"""`python -m emulators.console`: serve the sandbox console (started by `accessbot dev`).

Prints its URL on the first line (as the emulators do). Reads the ACCESS stream as the
siem NATS user: NATS_URL, NATS_USER (default siem) and NATS_PASSWORD from the environment;
lists dead letters as the admin when CONSOLE_ADMIN_NATS_PASSWORD is set.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
from pathlib import Path

from aiohttp import web
from pydantic import SecretStr

from emulators.console.events import EventFeed, NatsLogin, follow
from emulators.console.guard import LOOPBACK_HOSTS, host_name
from emulators.console.server import Console, Upstreams, make_app
from shared.logging import configure_logging
from shared.permissions import ADMIN_USER, SIEM_USER
from shared.profiles import ProfilesError, load_profiles

DEFAULT_CONSOLE_PORT = 4282
# The admin's password, for the dead-letter list only (`accessbot dev` sets it).
ADMIN_PASSWORD_ENV = "CONSOLE_ADMIN_NATS_PASSWORD"  # noqa: S105 - a variable name


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m emulators.console")
    parser.add_argument("--host", default="127.0.0.1", help="loopback only by default")
    parser.add_argument("--port", type=int, default=DEFAULT_CONSOLE_PORT)
    parser.add_argument("--slack-url", required=True, help="the Slack emulator's base URL")
    parser.add_argument("--tailscale-url", help="the Tailscale emulator's base URL, if emulated")
    parser.add_argument("--profiles", type=Path, default=Path("profiles.yaml"))
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> int:
    configure_logging("console", fmt="json")  # its log file sits next to the services'
    try:
        profiles = load_profiles(args.profiles)
    except ProfilesError as exc:
        sys.stderr.write(f"console: {exc.one_line()}\n")
        return 2
    feed = EventFeed()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    follower = None
    if os.environ.get("NATS_URL"):
        login = NatsLogin(
            os.environ["NATS_URL"],
            os.environ.get("NATS_USER", SIEM_USER),
            SecretStr(os.environ.get("NATS_PASSWORD", "")),
        )
        follower = asyncio.create_task(follow(feed, login, stop))
    else:
        feed.error = "NATS_URL is not set: the events pane stays empty"
    console = Console(Upstreams(args.slack_url.rstrip("/"), args.tailscale_url), profiles, feed)
    admin_password = os.environ.get(ADMIN_PASSWORD_ENV)
    if os.environ.get("NATS_URL") and admin_password:
        console.admin = NatsLogin(os.environ["NATS_URL"], ADMIN_USER, SecretStr(admin_password))
    hosts = LOOPBACK_HOSTS | {host_name(args.host)}
    runner = web.AppRunner(make_app(console, hosts), shutdown_timeout=1.0)
    await runner.setup()
    site = web.TCPSite(runner, args.host, args.port)
    try:
        await site.start()
    except OSError as exc:
        sys.stderr.write(f"console: cannot listen on {args.host}:{args.port}: {exc.strerror}\n")
        return 2
    sys.stdout.write(f"Console listening on http://{args.host}:{args.port}/\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        if follower is not None:
            follower.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await follower
        await runner.cleanup()
    return 0


def main(argv: list[str] | None = None) -> None:
    code = 0
    with contextlib.suppress(KeyboardInterrupt):
        code = asyncio.run(run(parse_args(argv)))
    sys.exit(code)


if __name__ == "__main__":
    main()
