"""The notifier's CPU per complete flow, in-process, with its real Slack client and KV store.

What `bench.throughput` reports as `cpu_per_flow_notifier_ms` moves with the machine's
load (a process descheduled more often does less per wakeup), so changes to the
notifier are measured here instead: this process runs `Notifier.handle` for the four
events of a flow (request.submitted, approval.requested, request.approved,
grant.applied; a `bench`-like profile: two approvers, one audit channel) one flow after
another, with the Slack gateway and slack_sdk client the service builds
(`bootstrap.slack_client`, its retry handlers, one pooled session; posts and updates
through `shared.slack_web.JsonCalls`) against the Slack emulator in a child process
(rate limits off), the `slack_messages` bucket on a real nats-server, and logging
configured as the service does (JSON, to /dev/null), on the event loop the service
runs on (`shared.event_loop`). Its own CPU time
(`time.process_time`) over the measured flows, divided by their number, is the figure;
the emulator and nats-server are other processes and not in it. Not included: the
subscriber (FastStream, decoding the CloudEvent, the ack), which every service shares.

    python -m bench.notifier_cpu [--runs N] [--quick] [--flows N] [--warmup N]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from pydantic import SecretStr

from accessbot.natsserver import EmbeddedNats, free_port
from bench.in_process import run_as_service
from bench.report import Report, RunFigures, Target, parse_args
from services.notifier.adapters.home_index import HomeIndexStore
from services.notifier.adapters.slack_gateway import SlackGateway
from services.notifier.adapters.store import RecordStore
from services.notifier.bootstrap import slack_client
from services.notifier.handlers import Notifier
from services.notifier.handlers.home import HomePublisher
from services.notifier.settings import NotifierSettings
from shared import event_loop, gc_policy
from shared.connection import connect
from shared.contracts.cloudevents import CloudEventMeta, Envelope, ce_type
from shared.contracts.events import (
    ApprovalMode,
    ApprovalRequested,
    DeviceSnapshot,
    GrantApplied,
    Message,
    Person,
    RequestApproved,
    SubmitRequest,
)
from shared.ids import new_id
from shared.permissions import ADMIN_USER
from shared.profiles import load_profiles
from shared.provisioning import provision
from shared.settings import ServiceSettings
from shared.slack_web import PooledSlackSession

NAME = "notifier_cpu"
TITLE = "Notifier CPU per complete flow (in-process, real Slack client and KV)"
TARGET_MS = 12.0

BOT_TOKEN = "xoxb-bench-notifier"  # noqa: S105 - the emulator's, not a secret
AUDIT_CHANNEL = "C0BENCHAUD"
PROFILE = "bench"
ATTRIBUTE = "custom:benchAccess"
REQUESTERS = 20
APPROVERS = (
    Person(email="approver1@example.com", name="Approver One"),
    Person(email="approver2@example.com", name="Approver Two"),
)
PROFILES_YAML = f"""
admins: [secops@example.com]
profiles:
  - id: {PROFILE}
    description: Benchmark access
    attribute: {ATTRIBUTE}
    max_duration: 1h
    approvers: {{emails: [approver1@example.com, approver2@example.com]}}
    notify_channels: [{AUDIT_CHANNEL}]
"""


def requester(i: int) -> Person:
    n = i % REQUESTERS + 1
    return Person(email=f"requester{n}@example.com", slack_user_id=f"U0REQ{n:04d}")


# -- the Slack emulator, in a process of its own ------------------------------------------


async def _serve_slack() -> None:
    from emulators.slack import Channel, SlackEmulator, User, Workspace

    ws = Workspace()
    for i in range(REQUESTERS):
        who = requester(i)
        assert who.slack_user_id is not None
        ws.add_user(User(id=who.slack_user_id, name=f"r{i}", real_name=f"R {i}", email=who.email))
    for n, who in enumerate(APPROVERS, start=1):
        ws.add_user(User(id=f"U0APPR{n}", name=f"a{n}", real_name=f"A {n}", email=who.email))
    ws.add_channel(Channel(id=AUDIT_CHANNEL, name="access-audit"))
    emu = SlackEmulator(workspace=ws, bot_token=BOT_TOKEN, rate_limits={"*": None})
    await emu.start(host="127.0.0.1", port=0)
    sys.stdout.write(emu.api_url + "\n")
    sys.stdout.flush()
    stop = asyncio.Event()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set)
    await stop.wait()
    await emu.stop()


@contextlib.contextmanager
def slack_process() -> Iterator[str]:
    """The emulator in a child process; yields its Web API base URL."""
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.notifier_cpu", "--serve-slack"],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        url = child.stdout.readline().strip()
        if not url:
            raise RuntimeError("the Slack emulator did not start")
        yield url
    finally:
        child.terminate()
        child.wait(timeout=10)


# -- the notifier, in this process --------------------------------------------------------


def flow_events(i: int) -> list[Message]:
    """The four events of flow `i`, as their publishers send them."""
    request_id = new_id()
    who = requester(i)
    device = DeviceSnapshot(
        node_id=f"nBENCH{i % REQUESTERS:04d}CNTRL",
        name=f"requester{i % REQUESTERS}-laptop.tail1234.ts.net",
        hostname=f"requester{i % REQUESTERS}-laptop",
        owner=who.email,
        os="linux",
        addresses=["100.101.102.103"],
    )
    now = datetime.now(UTC)
    reason = "Benchmark flow"
    return [
        SubmitRequest(
            request_id=request_id,
            requester=who,
            profile_id=PROFILE,
            device_id=device.node_id,
            duration_seconds=3600,
            reason=reason,
            submitted_at=now,
        ),
        ApprovalRequested(
            request_id=request_id,
            requester=who,
            profile_id=PROFILE,
            profile_description="Benchmark access",
            device=device,
            duration_seconds=3600,
            reason=reason,
            approvers=list(APPROVERS),
            approvals_required=1,
            expires_at=now + timedelta(hours=1),
        ),
        RequestApproved(
            request_id=request_id,
            requester=who,
            profile_id=PROFILE,
            device=device,
            attribute=ATTRIBUTE,
            value=True,
            duration_seconds=3600,
            reason=reason,
            approvers=[APPROVERS[0]],
            mode=ApprovalMode.QUORUM,
            approved_at=now,
        ),
        GrantApplied(
            request_id=request_id,
            requester=who,
            profile_id=PROFILE,
            device_id=device.node_id,
            attribute=ATTRIBUTE,
            value=True,
            expires_at=now + timedelta(hours=1),
            applied_at=now,
        ),
    ]


def envelope(event: Message) -> Envelope[Message]:
    meta = CloudEventMeta(
        id=new_id(),
        source="accessbot/bench",
        type=ce_type(event.SUBJECT),
        time=datetime.now(UTC),
        subject=event.request_id,
    )
    return Envelope(meta=meta, event=event)


@contextlib.asynccontextmanager
async def notifier(api_url: str, workdir: Path) -> AsyncIterator[tuple[Notifier, dict[str, int]]]:
    """A notifier on a fresh nats-server, and its NATS client's stats."""
    server = EmbeddedNats(data_dir=workdir / "nats", port=free_port())
    server.start()
    try:
        common = {"nats_url": server.url, "profiles_path": workdir / "profiles.yaml"}
        admin = ServiceSettings.model_validate(
            {**common, "nats_user": ADMIN_USER, "nats_password": server.passwords[ADMIN_USER]}
        )
        admin_nc = await connect(admin, name="bench-admin")
        await provision(admin_nc.jetstream())
        await admin_nc.drain()
        settings = NotifierSettings.model_validate(
            {
                **common,
                "nats_user": "notifier",
                "nats_password": server.passwords["notifier"],
                "slack_bot_token": SecretStr(BOT_TOKEN),
                "slack_api_url": api_url,
            }
        )
        nc = await connect(settings, name="bench-notifier")
        web = slack_client(settings)
        session = PooledSlackSession(web)
        await session.open()
        try:
            store = await RecordStore.open(nc.jetstream())
            slack = SlackGateway(web)
            notifier = Notifier(
                store=store,
                slack=slack,
                profiles=load_profiles(settings.profiles_path),
                admin_url="https://login.tailscale.com/admin/machines",
            )
            # as bootstrap wires it: each event indexed for the App Home of whom it names
            notifier.with_home(
                HomePublisher(
                    records=store,
                    indexes=await HomeIndexStore.open(nc.jetstream()),
                    slack=slack,
                    contexts=notifier.context,
                )
            )
            yield notifier, nc.stats
        finally:
            await session.close()
            await nc.drain()
    finally:
        server.stop()


async def run_flows(handler: Notifier, first: int, count: int) -> None:
    for i in range(first, first + count):
        for event in flow_events(i):
            await handler.handle(envelope(event))


async def measure(api_url: str, flows: int, warmup: int) -> RunFigures:
    with tempfile.TemporaryDirectory(prefix="bench-notifier-") as tmp:
        workdir = Path(tmp)
        (workdir / "profiles.yaml").write_text(PROFILES_YAML, encoding="utf-8")
        async with notifier(api_url, workdir) as (handler, stats):
            await run_flows(handler, 0, warmup)
            gc_policy.freeze_started()  # as the service does once started
            sent = stats["out_msgs"]
            cpu, wall = time.process_time(), time.perf_counter()
            await run_flows(handler, warmup, flows)
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
            gc.unfreeze()
            sent = stats["out_msgs"] - sent
    return {
        "cpu_per_flow_ms": 1000.0 * cpu / flows,
        "wall_per_flow_ms": 1000.0 * wall / flows,
        "nats_msgs_per_flow": sent / flows,
    }


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--flows", type=int, default=None, help="measured flows per run (300)")
    parser.add_argument("--warmup", type=int, default=None, help="flows before measuring (40)")


def main() -> None:
    if sys.argv[1:] == ["--serve-slack"]:
        asyncio.run(_serve_slack())
        return
    args = parse_args(__doc__ or TITLE, default_runs=3, extra=_options)
    flows = args.flows or (60 if args.quick else 300)
    warmup = args.warmup or (10 if args.quick else 40)
    report = Report(
        NAME,
        TITLE,
        params={"runs": args.runs, "quick": args.quick, "flows": flows, "warmup": warmup},
        targets=[Target("cpu_per_flow_ms", "notifier CPU per flow", TARGET_MS, "ms")],
        units={"nats_msgs_per_flow": ""},
    )
    report.notes.append(
        "cpu_per_flow_ms = this process's CPU time (notifier handling, slack_sdk, aiohttp, "
        "nats-py, logging) / flows; nats_msgs_per_flow = messages the NATS client sent "
        "(KV reads and writes)"
    )
    report.header()
    with slack_process() as api_url:
        run_as_service(
            report, args.runs, "notifier", lambda: event_loop.run(measure(api_url, flows, warmup))
        )
    report.finish(args.results_dir)


if __name__ == "__main__":
    main()
