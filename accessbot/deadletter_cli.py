"""`accessbot deadletter list|replay`: the arguments (what they do: `deadletter_command`)."""

from __future__ import annotations

import argparse

from accessbot.cli_args import run_later

COMMAND = "accessbot.deadletter_command"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `deadletter list` and `deadletter replay` to the `accessbot` parser."""
    deadletter = sub.add_parser(
        "deadletter",
        help="messages a consumer gave up on: list, replay (as the admin NATS user)",
    )
    dl_sub = deadletter.add_subparsers(dest="deadletter_command", metavar="COMMAND", required=True)
    listing = dl_sub.add_parser("list", help="dead-lettered messages not replayed yet")
    listing.add_argument("--json", action="store_true", help="one JSON object per line")
    listing.set_defaults(func=run_later(COMMAND, "run_list"))
    again = dl_sub.add_parser(
        "replay", help="re-deliver one dead-lettered event to the consumer that gave up on it"
    )
    again.add_argument(
        "event_id", help="the event's id (ce-id), or CONSUMER:SEQ for a due timer, as listed"
    )
    again.set_defaults(func=run_later(COMMAND, "run_replay"))
