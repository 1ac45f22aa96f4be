"""`accessbot replicas`: the arguments (what it does: `replicas_command`)."""

from __future__ import annotations

import argparse

from accessbot.cli_args import positive_int, run_later


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `replicas` to the `accessbot` parser."""
    replicas = sub.add_parser(
        "replicas",
        help="each stream's and bucket's replicas; --set N moves them all (admin NATS user)",
    )
    replicas.add_argument(
        "--set",
        type=positive_int,
        default=None,
        metavar="N",
        help="move every stream and bucket to N replicas (3 for a three-node cluster)",
    )
    replicas.set_defaults(func=run_later("accessbot.replicas_command", "run"))
