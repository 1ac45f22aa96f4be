"""`python -m emulators.slack`: run the emulator standalone until SIGINT/SIGTERM.

Tokens and the signing secret may also come from the environment
(SLACK_EMULATOR_BOT_TOKEN, SLACK_EMULATOR_APP_TOKEN, SLACK_EMULATOR_SIGNING_SECRET)
so they need not show up in the process list.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys

from emulators.slack.server import SlackEmulator
from emulators.slack.workspace import Workspace


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(prog="python -m emulators.slack", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--users", type=int, default=20, help="seeded users")
    parser.add_argument("--workspace-file", help="JSON/YAML users, channels, usergroups to add")
    parser.add_argument("--bot-token", default=env("SLACK_EMULATOR_BOT_TOKEN", "xoxb-emulator"))
    parser.add_argument("--app-token", default=env("SLACK_EMULATOR_APP_TOKEN", "xapp-emulator"))
    parser.add_argument(
        "--signing-secret",
        default=env("SLACK_EMULATOR_SIGNING_SECRET", "emulator-signing-secret"),
    )
    parser.add_argument("--http-app-url", help="deliver interactions here when no socket app")
    parser.add_argument("--trigger-ttl", type=float, default=3.0)
    parser.add_argument("--ack-timeout", type=float, default=3.0)
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> None:
    workspace = Workspace.seeded(seed=args.seed, users=args.users)
    if args.workspace_file:
        workspace.load_file(args.workspace_file)
    emulator = SlackEmulator(
        workspace=workspace,
        bot_token=args.bot_token,
        app_token=args.app_token,
        signing_secret=args.signing_secret,
        trigger_ttl=args.trigger_ttl,
        ack_timeout=args.ack_timeout,
        http_app_url=args.http_app_url,
        seed=args.seed,
    )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    url = await emulator.start(host=args.host, port=args.port)
    sys.stdout.write(f"Slack emulator listening on {url} (Web API: {emulator.api_url})\n")
    sys.stdout.flush()
    try:
        await stop.wait()
    finally:
        await emulator.stop()
        sys.stdout.write("Slack emulator stopped\n")
        sys.stdout.flush()


def main(argv: list[str] | None = None) -> None:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(run(parse_args(argv)))


if __name__ == "__main__":
    main()
