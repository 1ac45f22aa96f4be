"""`accessbot asyncapi`: print the AsyncAPI document generated from the contracts."""

from __future__ import annotations

import argparse
import sys

from accessbot.cli_args import output_file, write_output


def _run(args: argparse.Namespace) -> int:
    from shared.asyncapi import render_yaml

    text = render_yaml()
    if args.output is None:
        sys.stdout.write(text)
        return 0
    return write_output(args.output, text, prog="accessbot asyncapi")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command to the `accessbot` parser."""
    parser = sub.add_parser("asyncapi", help="print the AsyncAPI document of the event stream")
    parser.add_argument(
        "--output", type=output_file, default=None, help="write to this file instead of stdout"
    )
    parser.set_defaults(func=_run)
