"""The whole system for the end-to-end benchmarks, and the simulated people using it.

`running_system` starts `accessbot.harness` (real nats-server, the Slack and
Tailscale emulators in this process, the four services as OS processes) with a
profiles file of its own: one `bench` profile (two approvers, own devices, a
reason) that every flow asks for, and a `roster` profile nobody asks for, there
only so the benchmark's simulated requesters exist in the sandbox workspace and
own devices in the sandbox tailnet.
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
import io
import os
import pstats
import shutil
import signal
import tempfile
import time
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from nats.aio.msg import Msg
from nats.aio.subscription import Subscription
from nats.js.api import DeliverPolicy

from accessbot.harness import Harness, start_harness
from accessbot.natscluster import NatsCluster
from accessbot.sandbox import slack_user_id
from emulators.slack import PostedMessage, SlackEmulator
from emulators.slack.blockkit import find_element
from services.intake.domain.metadata import ModalMetadata
from shared.contracts.subjects import ACCESS_STREAM, ACCESS_SUBJECTS, Bucket
from shared.slack_ids import ANY_APPROVER, ActionId, ButtonValue, CallbackId

BENCH_PROFILE = "bench"
BENCH_ATTRIBUTE = "custom:benchAccess"
APPROVER_EMAILS = ("alice@example.com", "bob@example.com")
AUDIT_CHANNEL = "C0BENCHAUDIT"
PROFILING_DIR = Path(__file__).resolve().parent / "profiling"
VIEW_TIMEOUT = 10.0
SYNC_TIMEOUT = 60.0


def requester_email(index: int) -> str:
    return f"bench{index:03d}@example.com"


def write_profiles(path: Path, requesters: int) -> None:
    """The benchmark's profiles.yaml."""
    config = {
        "admins": ["secops@example.com"],
        "defaults": {"request_ttl": "1h", "max_duration": "1h"},
        "profiles": [
            {
                "id": BENCH_PROFILE,
                "description": "Benchmark access",
                "attribute": BENCH_ATTRIBUTE,
                "max_duration": "1h",
                "approvers": {"emails": list(APPROVER_EMAILS)},
                "devices": "own",
                "require_reason": True,
                "notify_channels": [AUDIT_CHANNEL],
            },
            {
                # Never requested: lists the simulated requesters so that the sandbox
                # workspace and tailnet (built from the people profiles name) hold them.
                "id": "roster",
                "description": "Benchmark roster (never requested)",
                "attribute": "custom:benchRoster",
                "approvers": {"emails": [requester_email(i) for i in range(1, requesters + 1)]},
                "devices": "own",
            },
        ],
    }
    path.write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")


@dataclass(frozen=True)
class Person:
    """A simulated Slack user, with the untagged devices they own in the tailnet."""

    user_id: str
    email: str
    devices: tuple[str, ...] = ()


@dataclass
class BenchSystem:
    """Everything running, plus who plays which part."""

    harness: Harness
    requesters: list[Person]
    approvers: list[Person]
    data_dir: Path
    profiled: dict[str, Path] = field(default_factory=dict)  # service -> its pstats file

    def profile(self, on: bool) -> None:
        """Start (or stop and write) cProfile in the services started with `profile=`."""
        for name, path in self.profiled.items():
            process = self.harness.services[name].process
            if process is None:
                continue
            if not on:
                path.unlink(missing_ok=True)  # so a report never reads an older dump
            process.send_signal(signal.SIGUSR1 if on else signal.SIGUSR2)

    def profile_report(self, results_dir: Path, bench: str, top: int = 25) -> None:
        """Print each profiled service's busiest functions; keep the pstats files."""
        for name, path in self.profiled.items():
            stats = _load_stats(path)
            if stats is None:
                print(f"   (no profile from {name})")
                continue
            results_dir.mkdir(parents=True, exist_ok=True)
            kept = results_dir / f"{bench}-{name}.pstats"
            stats.dump_stats(kept)
            out = io.StringIO()
            stats.stream = out  # type: ignore[attr-defined]  # pstats has it, typeshed not
            stats.sort_stats("tottime").print_stats(top)
            stats.sort_stats("cumulative").print_stats(top)
            print(f"== cProfile of {name} during the measured window ({kept})")
            print(out.getvalue())

    @property
    def slack(self) -> SlackEmulator:
        return self.harness.slack

    def pids(self) -> dict[str, int]:
        """Each service's pid, nats-server's and this process's (emulators live here)."""
        found = {
            name: service.process.pid
            for name, service in self.harness.services.items()
            if service.process is not None
        }
        nats = self.harness.nats
        servers = (
            {f"nats-server-{n.name}": n.server for n in nats.nodes}
            if isinstance(nats, NatsCluster)
            else {"nats-server": nats}
        )
        for name, server in servers.items():
            if server.process is not None:
                found[name] = server.process.pid
        found["bench+emulators"] = os.getpid()
        return found

    async def wait_devices_synced(self, timeout: float = SYNC_TIMEOUT) -> None:
        """Until grants has written every emulated device to KV `devices` (intake reads it)."""
        wanted = self.harness.tailscale.device_count
        deadline = time.monotonic() + timeout
        stored = 0
        while time.monotonic() < deadline:
            info = await self.harness.js.stream_info(f"KV_{Bucket.DEVICES.value}")
            stored = info.state.messages
            if stored >= wanted:
                # intake's KV watch applies them meanwhile (about 20,000 a second)
                await asyncio.sleep(0.5 + wanted / 20_000)
                return
            await asyncio.sleep(0.2)
        raise TimeoutError(f"only {stored}/{wanted} devices in KV after {timeout}s")

    async def activity(self) -> tuple[int, int, int]:
        """Counters that move while anything is still happening."""
        info = await self.harness.js.stream_info(ACCESS_STREAM)
        return (
            len(self.slack.api_calls),
            len(self.harness.tailscale.calls),
            info.state.last_seq,
        )

    async def settle(self, quiet: float = 0.5, limit: float = 20.0) -> float:
        """Wait until nothing moves for `quiet` seconds (at most `limit`); seconds waited."""
        started = time.monotonic()
        last = await self.activity()
        still_since = time.monotonic()
        while time.monotonic() - started < limit:
            await asyncio.sleep(0.1)
            now = await self.activity()
            if now != last:
                last, still_since = now, time.monotonic()
            elif time.monotonic() - still_since >= quiet:
                break
        return time.monotonic() - started


@contextlib.asynccontextmanager
async def running_system(
    *,
    requesters: int = 20,
    devices: int | None = None,
    slack_mode: str = "socket",
    slack_options: Mapping[str, Any] | None = None,
    extra_env: Mapping[str, Mapping[str, str]] | None = None,
    profile: Sequence[str] = (),
    keep: bool = False,
    cluster: bool = False,
) -> AsyncIterator[BenchSystem]:
    """Start everything in a fresh temporary directory; stop it and remove the directory.

    `profile` names services to run under cProfile (see bench/profiling), switched on
    and off with `BenchSystem.profile`. `cluster`: a three-node NATS cluster, everything
    at R3 (accessbot.natscluster), instead of one server.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="accessbot-bench-"))
    profiles_path = data_dir / "profiles.yaml"
    write_profiles(profiles_path, requesters)
    env = {name: dict(values) for name, values in (extra_env or {}).items()}
    profiled: dict[str, Path] = {}
    for name in profile:
        profiled[name] = data_dir / f"{name}.pstats"
        path_dirs = [str(PROFILING_DIR), os.environ.get("PYTHONPATH", ""), os.getcwd()]
        env.setdefault(name, {}).update(
            {
                "PYTHONPATH": os.pathsep.join(d for d in path_dirs if d),
                "ACCESSBOT_BENCH_PROFILE": str(profiled[name]),
            }
        )
    harness = await start_harness(
        data_dir,
        profiles_path=profiles_path,
        devices=devices if devices is not None else max(200, 6 * requesters),
        slack_mode=slack_mode,
        slack_options=slack_options,
        extra_env=env,
        cluster=cluster,
    )
    failed = True
    try:
        owned: dict[str, list[str]] = {}
        for device in harness.tailscale.devices():
            if not device.get("tags") and device.get("user"):
                owned.setdefault(str(device["user"]).lower(), []).append(str(device["nodeId"]))
        people = [
            Person(slack_user_id(email), email, tuple(owned.get(email, ())))
            for email in (requester_email(i) for i in range(1, requesters + 1))
        ]
        system = BenchSystem(
            harness=harness,
            requesters=[p for p in people if p.devices],
            approvers=[Person(slack_user_id(e), e) for e in APPROVER_EMAILS],
            data_dir=data_dir,
            profiled=profiled,
        )
        await system.wait_devices_synced()
        yield system
        failed = False
    finally:
        await harness.stop()
        if failed or keep:
            print(f"   (logs kept in {data_dir / 'logs'})")
        else:
            shutil.rmtree(data_dir, ignore_errors=True)


def _load_stats(path: Path, timeout: float = 10.0) -> pstats.Stats | None:
    """The pstats a service writes on SIGUSR2 (waiting until it is complete)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            return pstats.Stats(str(path))
        except (OSError, EOFError, ValueError, TypeError):
            time.sleep(0.1)
    return None


# -- what people do -------------------------------------------------------------------------


def _first_option(view: dict[str, Any], action_id: str) -> str:
    found = find_element(view["blocks"], action_id)
    options = (found[1].get("options") or []) if found else []
    if not options:
        raise LookupError(f"no options for {action_id} in the open view")
    return str(options[0]["value"])


async def file_request(
    slack: SlackEmulator,
    person: Person,
    *,
    reason: str = "benchmark",
    device_query: str = "",
) -> str:
    """Shortcut, pick the bench profile, search devices, submit; the new request's id.

    The same steps as `accessbot.scenario.file_request`, keeping the request id
    (from the modal's private_metadata) so the flow can be followed.
    """
    driver = slack.driver
    user = person.user_id
    await driver.press_shortcut(user, CallbackId.REQUEST_SHORTCUT)
    view = await driver.wait_for_view(
        user, callback_id=CallbackId.REQUEST_MODAL, timeout=VIEW_TIMEOUT
    )
    await driver.select(user, ActionId.PROFILE_SELECT, BENCH_PROFILE)
    view = await driver.wait_for_view(user, newer_than=view, timeout=VIEW_TIMEOUT)
    request_id = ModalMetadata.decode(view.get("private_metadata")).request_id
    answer = await driver.type_in_external_select(user, ActionId.DEVICE_SELECT, device_query)
    groups = answer.get("option_groups") or [{"options": answer.get("options")}]
    offered = [o for g in groups for o in (g.get("options") or [])]
    if not offered:
        raise LookupError(f"no device offered to {user} for {device_query!r}")
    # A query is a substring search ("imac" also offers "imac-2", whose grant may still be
    # active): take the device named. A label is "short-name · 100.x.y.z · OS".
    named = [o for o in offered if str(o["text"]["text"]).split(" · ")[0] == device_query]
    chosen = (named or offered)[0]
    values: dict[str, Any] = {
        ActionId.DEVICE_SELECT: str(chosen["value"]),
        ActionId.DURATION_SELECT: _first_option(view, ActionId.DURATION_SELECT),
        ActionId.REASON_INPUT: reason,
    }
    if find_element(view["blocks"], ActionId.APPROVER_RADIO) is not None:
        values[ActionId.APPROVER_RADIO] = ANY_APPROVER
    ack = await driver.submit_view(user, values=values)
    if ack is not None:
        raise RuntimeError(f"submission of {request_id} refused: {ack}")
    return request_id


@dataclass(frozen=True)
class Sighting:
    """An Approve button as first seen (the message's blocks change when it is decided)."""

    approver_id: str
    message: PostedMessage
    block: dict[str, Any]
    button: dict[str, Any]
    seen_at: float  # time.monotonic() when the scan found it


class ApprovalInbox:
    """Finds the Approve button the notifier posted about each request in approvers' DMs.

    One background task looks at new DM messages every `interval` seconds (cheaper than
    one poller per flow when hundreds of flows wait at once).
    """

    def __init__(
        self, slack: SlackEmulator, approvers: list[Person], interval: float = 0.02
    ) -> None:
        self._slack = slack
        self._approvers = approvers
        self._interval = interval
        self._seen: set[tuple[str, str]] = set()
        self._found: dict[str, Sighting] = {}
        self._waiters: dict[str, list[asyncio.Future[None]]] = {}
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    def found(self) -> dict[str, Sighting]:
        """Request id -> the first approver's DM holding its Approve button."""
        return dict(self._found)

    async def wait(self, request_id: str, timeout: float = 20.0) -> Sighting:
        if request_id not in self._found:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(request_id, []).append(waiter)
            try:
                await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                raise TimeoutError(f"no Approve button for {request_id} in {timeout}s") from None
        return self._found[request_id]

    async def _run(self) -> None:
        while True:
            self.scan()
            await asyncio.sleep(self._interval)

    def scan(self) -> None:
        now = time.monotonic()
        for approver in self._approvers:
            for message in self._slack.dms(approver.user_id):
                key = (message.channel, message.ts)
                if key in self._seen:
                    continue
                self._seen.add(key)
                found = find_element(message.blocks, ActionId.APPROVE)
                if found is None or "value" not in found[1]:
                    continue
                try:
                    request_id = ButtonValue.decode(str(found[1]["value"])).request_id
                except ValueError:
                    continue
                block, button = copy.deepcopy(found)
                self._found.setdefault(
                    request_id, Sighting(approver.user_id, message, block, button, now)
                )
                for waiter in self._waiters.pop(request_id, []):
                    if not waiter.done():
                        waiter.set_result(None)


async def approve(slack: SlackEmulator, inbox: ApprovalInbox, request_id: str) -> float:
    """Press Approve on the request's DM; the monotonic time just before the press."""
    seen = await inbox.wait(request_id)
    pressed = time.monotonic()
    await slack.driver.press_button(
        seen.approver_id, seen.message.channel, seen.message.ts, ActionId.APPROVE
    )
    return pressed


# -- when events are stored -------------------------------------------------------------------


@dataclass
class EventClock:
    """When each event was stored on ACCESS (as seen by an ordered JetStream consumer).

    Times are `time.monotonic()` on arrival here, keyed by (subject, request id) - the
    request id rides in the `ce-subject` header, so nothing is decoded.
    """

    harness: Harness
    seen: dict[tuple[str, str], float] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    _waiters: dict[tuple[str, str], list[asyncio.Future[None]]] = field(default_factory=dict)
    _sub: Subscription | None = None

    async def start(self) -> None:
        self._sub = await self.harness.js.subscribe(
            ACCESS_SUBJECTS,
            ordered_consumer=True,
            deliver_policy=DeliverPolicy.NEW,
            cb=self._on_message,
        )

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
            self._sub = None

    async def _on_message(self, msg: Msg) -> None:
        now = time.monotonic()
        request_id = (msg.headers or {}).get("ce-subject", "")
        self.counts[msg.subject] = self.counts.get(msg.subject, 0) + 1
        key = (msg.subject, request_id)
        if key in self.seen:
            return
        self.seen[key] = now
        for waiter in self._waiters.pop(key, []):
            if not waiter.done():
                waiter.set_result(None)

    def when(self, subject: str, request_id: str) -> float | None:
        return self.seen.get((subject, request_id))

    async def wait(self, subject: str, request_id: str, timeout: float = 20.0) -> float:
        """The moment `subject` about `request_id` was stored (waiting up to `timeout`)."""
        key = (subject, request_id)
        if key not in self.seen:
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.setdefault(key, []).append(waiter)
            try:
                await asyncio.wait_for(waiter, timeout)
            except TimeoutError:
                raise TimeoutError(f"no {subject} for {request_id} in {timeout}s") from None
        return self.seen[key]
