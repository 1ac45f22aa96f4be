"""`accessbot asyncapi`: print the AsyncAPI document generated from the contracts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    from shared.asyncapi import render_yaml

    text = render_yaml()
    if args.output is None:
        sys.stdout.write(text)
    else:
        Path(args.output).write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the command to the `accessbot` parser."""
    parser = sub.add_parser("asyncapi", help="print the AsyncAPI document of the event stream")
    parser.add_argument("--output", type=Path, default=None, help="write to a file instead")
    parser.set_defaults(func=_run)
