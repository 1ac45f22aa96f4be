"""`accessbot`: one command for running, checking and auditing Accessbot."""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from datetime import timedelta
from importlib.metadata import version
from pathlib import Path

from accessbot.cli_args import (
    OneLineParser,
    base_url,
    duration,
    folder,
    output_file,
    port,
    positive_int,
    write_output,
)
from accessbot.sandbox_ports import DEFAULT_CONSOLE_PORT, DEFAULT_SLACK_PORT, DEFAULT_TAILSCALE_PORT
from shared.permissions import SERVICES

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_INVALID = 2


def _serve(args: argparse.Namespace) -> int:
    module = importlib.import_module(f"services.{args.service}.bootstrap")
    module.main()
    return EXIT_OK


def _dev(args: argparse.Namespace) -> int:
    from accessbot.dev import DevOptions, run_dev

    options = DevOptions(
        data_dir=args.data_dir,
        nats_port=args.nats_port,
        profiles_path=args.profiles,
        seed_devices=args.devices,
        slack_port=args.slack_port,
        tailscale_port=args.tailscale_port,
        cluster=args.cluster,
        console_port=args.console_port,
    )
    return run_dev(options)


def _profiles_check(args: argparse.Namespace) -> int:
    from shared.profiles import ProfilesError, load_profiles
    from shared.slack_limits import SELECT_OPTIONS

    path: Path = args.path
    try:
        config = load_profiles(path)
    except ProfilesError as exc:
        for problem in exc.problems:
            print(f"{path}: {problem}", file=sys.stderr)
        print(f"{path}: {len(exc.problems)} problem(s)", file=sys.stderr)
        return EXIT_INVALID
    if args.online:
        from accessbot.profiles_online import OnlineCheckError, online_problems

        try:
            problems = online_problems(config)
        except OnlineCheckError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            return EXIT_FAILED
        for problem in problems:
            print(f"{path}: {problem}", file=sys.stderr)
        if problems:
            print(f"{path}: {len(problems)} problem(s)", file=sys.stderr)
            return EXIT_INVALID
    approvers = {e for p in config.profiles for e in p.approvers.emails}
    groups = {g for p in config.profiles for g in p.slack_groups()}
    channels = {c for p in config.profiles for c in p.notify_channels}
    with_groups = f", {counted(len(groups), 'approver group')}" if groups else ""
    print(
        f"{path}: OK: {counted(len(config.profiles), 'profile')}, "
        f"{counted(len(approvers), 'approver')}{with_groups}, "
        f"{counted(len(channels), 'audit channel')}, {counted(len(config.admins), 'admin')}"
    )
    if len(config.profiles) > SELECT_OPTIONS:
        print(
            f"{path}: note: more than {SELECT_OPTIONS} profiles (Slack's limit for a list), "
            "so the request form asks people to search for one instead of listing them all"
        )
    return EXIT_OK


def counted(n: int, noun: str) -> str:
    """`1 admin`, `2 admins`, `0 approvers`."""
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _health(args: argparse.Namespace) -> int:
    from accessbot.health_check import check_health

    timeout: timedelta = args.timeout
    return check_health(args.service, url=args.url, timeout=timeout.total_seconds())


def _nats_config(args: argparse.Namespace) -> int:
    from accessbot.deploy_config import render_deploy_nats_conf

    text = render_deploy_nats_conf()
    if args.output is None:
        sys.stdout.write(text)
        return EXIT_OK
    return write_output(args.output, text, prog="accessbot nats-config")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed for tests and docs)."""
    parser = OneLineParser(
        prog="accessbot",
        description="Just-in-time Tailscale access, requested and approved in Slack.",
    )
    parser.add_argument(
        "--version",
        action="version",
        version=f"%(prog)s {version('accessbot')}",
        help="print the version and exit",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    dev = sub.add_parser(
        "dev",
        help="run everything on this machine: embedded NATS, the four services, "
        "and the Slack/Tailscale emulators where no credentials are set",
    )
    dev.add_argument("--data-dir", type=folder, default=None, help="JetStream and logs directory")
    dev.add_argument("--nats-port", type=port, default=4222, help="embedded NATS port")
    dev.add_argument(
        "--profiles", type=Path, default=Path("profiles.yaml"), help="the profiles file to run"
    )
    dev.add_argument(
        "--devices", type=positive_int, default=200, help="devices in the emulated tailnet"
    )
    dev.add_argument(
        "--slack-port", type=port, default=DEFAULT_SLACK_PORT, help="Slack emulator port"
    )
    dev.add_argument(
        "--tailscale-port",
        type=port,
        default=DEFAULT_TAILSCALE_PORT,
        help="Tailscale emulator port",
    )
    dev.add_argument(
        "--cluster",
        action="store_true",
        help="three embedded NATS nodes (--nats-port and the next two), everything at R3",
    )
    dev.add_argument(
        "--console-port",
        type=port,
        default=DEFAULT_CONSOLE_PORT,
        help="sandbox console port (served only when Slack is emulated)",
    )
    dev.set_defaults(func=_dev)

    serve = sub.add_parser("serve", help="run one service (what docker compose runs)")
    serve.add_argument("service", choices=SERVICES, help="the service to run")
    serve.set_defaults(func=_serve)

    profiles = sub.add_parser("profiles", help="access profiles")
    profiles_sub = profiles.add_subparsers(
        dest="profiles_command", metavar="COMMAND", required=True
    )
    check = profiles_sub.add_parser("check", help="validate profiles.yaml")
    check.add_argument(
        "path",
        type=Path,
        nargs="?",
        default=Path("profiles.yaml"),
        help="the file to check (default: profiles.yaml)",
    )
    check.add_argument(
        "--online",
        action="store_true",
        help="also ask Slack (SLACK_BOT_TOKEN; SLACK_API_URL for the emulator) that every "
        "approver group exists, is enabled and has 1 to 100 members",
    )
    check.set_defaults(func=_profiles_check)

    health = sub.add_parser("health", help="exit 0 when a service reports ready")
    health.add_argument("service", choices=SERVICES, help="the service expected to answer")
    health.add_argument(
        "--url",
        type=base_url,
        default=None,
        help="the service's health address, e.g. http://127.0.0.1:8081 (/readyz is added); "
        "default: HEALTH_HOST and HEALTH_PORT",
    )
    health.add_argument(
        "--timeout",
        type=duration(minimum=timedelta(seconds=1), maximum=timedelta(minutes=5)),
        default=timedelta(seconds=3),
        help="how long to wait for an answer, e.g. 3s (default 3s)",
    )
    health.set_defaults(func=_health)

    nats_config = sub.add_parser(
        "nats-config", help="render deploy/nats/nats.conf from the permission matrix"
    )
    nats_config.add_argument(
        "--output", type=output_file, default=None, help="write to this file instead of stdout"
    )
    nats_config.set_defaults(func=_nats_config)

    _register_optional(sub)
    return parser


def _register_optional(sub: argparse._SubParsersAction[OneLineParser]) -> None:
    """Commands whose modules live beside this one (audit, demo, asyncapi, deadletter,
    replicas)."""
    for name in ("audit", "demo", "asyncapi", "deadletter", "replicas"):
        try:
            module = importlib.import_module(f"accessbot.{name}_cli")
        except ModuleNotFoundError:
            continue
        module.register(sub)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the `accessbot` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    sys.exit(args.func(args))
