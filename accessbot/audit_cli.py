"""`accessbot audit tail|export`: the arguments (what they do: `audit_command`)."""

from __future__ import annotations

import argparse

from accessbot.cli_args import moment, run_later

COMMAND = "accessbot.audit_command"
_WHEN = "a time (2026-03-01, 2026-03-01T09:30:00Z; no zone means UTC) or a duration ago (1h, 2d)"


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `audit tail` and `audit export` to the `accessbot` parser."""
    audit = sub.add_parser(
        "audit",
        help="read the event stream as the read-only siem user (NATS_URL, NATS_PASSWORD)",
    )
    audit_sub = audit.add_subparsers(dest="audit_command", metavar="COMMAND", required=True)
    tail = audit_sub.add_parser("tail", help="print new events as they happen")
    tail.add_argument("--since", type=moment, default=None, help="start from this time; " + _WHEN)
    tail.set_defaults(func=run_later(COMMAND, "run_tail"))
    export = audit_sub.add_parser("export", help="print stored events between two times")
    export.add_argument(
        "--since",
        type=moment,
        default=None,
        help="from this time (default: the first event); " + _WHEN,
    )
    export.add_argument(
        "--until", type=moment, default=None, help="up to this time (default: now); " + _WHEN
    )
    export.add_argument(
        "--format", choices=["jsonl"], default="jsonl", help="one CloudEvent JSON object a line"
    )
    export.set_defaults(func=run_later(COMMAND, "run_export"))
