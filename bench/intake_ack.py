"""Intake's acknowledgement latency per interaction type, over signed HTTP, at 1 and 50 at once.

Each run starts the whole system with intake in HTTP mode (`bench.system`), lets
every simulated requester open the request form through the Slack emulator, then
POSTs its own correctly signed interactions straight to intake's /slack/events,
built the way Slack (and the emulator's driver) builds them from what is on screen
(a phase's requests are built and signed up front, then sent from a client process
of their own, so that the timings never wait on this process, which runs both
emulators):

  shortcut         the global "Request access" shortcut (a fresh trigger_id)
  profile_select   block_actions: the profile chosen in the open form
  device_search    block_suggestion: typing in the device picker ("", a name
                   prefix, an IP prefix, a nodeId)
  view_submission  the filled-in form (each one a new request)
  button           block_actions: Approve on an approver's DM

The figure is the client's view: from sending the POST to having the whole
response (the ack), p50/p99 per type at 1 and at 50 concurrent. The work each
interaction starts goes on for real (views open, requests are filed and
approved), so the 50-concurrent figures include that background load. intake's
own `ack_ms` (from its canonical log line) is reported beside it: the difference
is time waiting to be read and answered, i.e. queueing in a busy process.

    python -m bench.intake_ack [--runs N] [--quick] [--samples N] [--concurrency 1,50]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import aiohttp

from bench.procfs import CpuMeter
from bench.report import Report, RunFigures, Target, latency_figures, parse_args, percentile
from bench.system import (
    BENCH_PROFILE,
    ApprovalInbox,
    BenchSystem,
    Person,
    Sighting,
    running_system,
)
from emulators.slack.blockkit import find_element, iter_elements
from emulators.slack.payloads import (
    STATEFUL_TYPES,
    PayloadBuilder,
    chosen_state,
    empty_state,
    initial_state,
)
from emulators.slack.signing import RequestSigner
from services.intake.domain.metadata import ModalMetadata
from shared.ids import new_id
from shared.slack_ids import ActionId, CallbackId

NAME = "intake_ack"
TITLE = "intake ack latency (HTTP mode, signed requests)"
KINDS = ("shortcut", "profile_select", "device_search", "view_submission", "button")
TARGET_CONCURRENCY = 50
TARGET_P99_MS = 100.0
REQUEST_TIMEOUT = 10.0
PHASE_TIMEOUT = 300.0
BUTTONS_TIMEOUT = 60.0
WARMUP = 5


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--samples", type=int, default=None, help="interactions per type at 1 concurrent (100)"
    )
    parser.add_argument(
        "--concurrent-samples",
        type=int,
        default=None,
        help="interactions per type at higher concurrency (1000)",
    )
    parser.add_argument("--concurrency", default="1,50", help="comma-separated levels (1,50)")
    parser.add_argument("--devices", type=int, default=2000, help="devices in the tailnet")
    parser.add_argument("--requesters", type=int, default=60, help="simulated requesters")
    parser.add_argument(
        "--profile",
        default="",
        help="comma-separated services to cProfile in the highest-concurrency phases (first run)",
    )


@dataclass
class Phase:
    """What came back for one interaction type at one concurrency."""

    kind: str
    concurrency: int
    latencies: list[float] = field(default_factory=list)
    failures: int = 0
    refused: int = 0  # acked with field errors (a submission intake would not accept)


# -- signed requests, sent from a separate process ------------------------------------------

SignedRequest = tuple[bytes, dict[str, str]]
"""A form-encoded body and its headers, signed like Slack signs (valid for 5 minutes)."""

Outcome = tuple[float | None, bool]
"""(seconds from sending to the whole ack read, or None when it failed; ack had errors)."""


def sign(signer: RequestSigner, payload: dict[str, Any]) -> SignedRequest:
    body = urlencode({"payload": json.dumps(payload)}).encode()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "User-Agent": "Slackbot 1.0 (+https://api.slack.com/robots)",
        **signer.headers(body),
    }
    return body, headers


def post_all(url: str, requests: list[SignedRequest], concurrency: int) -> list[Outcome]:
    """POST every request, `concurrency` in flight; runs in the client process.

    The client has a process of its own so that its timings do not wait on this
    process's event loop, which also runs both emulators.
    """
    return asyncio.run(_post_all(url, requests, concurrency))


async def _post_all(url: str, requests: list[SignedRequest], concurrency: int) -> list[Outcome]:
    outcomes: list[Outcome] = []
    queue = iter(requests)
    connector = aiohttp.TCPConnector(limit=concurrency)
    timeout = aiohttp.ClientTimeout(total=REQUEST_TIMEOUT)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:

        async def worker() -> None:
            for body, headers in queue:
                started = time.perf_counter()
                try:
                    async with session.post(url, data=body, headers=headers) as response:
                        raw = await response.read()
                        ok = response.status == 200
                except (TimeoutError, aiohttp.ClientError):
                    ok, raw = False, b""
                seconds = time.perf_counter() - started
                outcomes.append((seconds if ok else None, b'"errors"' in raw))

        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return outcomes


@dataclass
class Client:
    """Builds and signs requests here, sends them from the client process."""

    url: str
    signer: RequestSigner
    pool: ProcessPoolExecutor

    async def run(self, make: Callable[[int], dict[str, Any]], phase: Phase, count: int) -> Phase:
        """`count` interactions, `phase.concurrency` in flight at any time."""
        requests = [sign(self.signer, make(i)) for i in range(count)]
        loop = asyncio.get_running_loop()
        outcomes = await asyncio.wait_for(
            loop.run_in_executor(self.pool, post_all, self.url, requests, phase.concurrency),
            PHASE_TIMEOUT,
        )
        for seconds, refused in outcomes:
            if seconds is None:
                phase.failures += 1
                continue
            phase.latencies.append(seconds)
            phase.refused += refused
        return phase


# -- payloads ------------------------------------------------------------------------------


@dataclass
class Requester:
    """A simulated requester with what they type and pick."""

    person: Person
    form: dict[str, Any]  # the request form with the bench profile's fields
    queries: list[str]
    device_option: dict[str, Any]


@dataclass
class Payloads:
    """Builds each kind of interaction from what the emulator shows the person now."""

    system: BenchSystem
    requesters: list[Requester] = field(default_factory=list)
    sightings: list[Sighting] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._slack = self.system.slack
        self._builder = PayloadBuilder(self._slack.workspace)
        # The emulator's trigger ids, so that views.open after the ack succeeds.
        self._triggers = self._slack._state.triggers

    def _trigger(self, user_id: str, source: str, view_id: str | None = None) -> str:
        return self._triggers.issue(user_id, source, view_id)

    def shortcut(self, i: int) -> dict[str, Any]:
        user = self.requesters[i % len(self.requesters)].person.user_id
        return self._builder.shortcut(
            user, CallbackId.REQUEST_SHORTCUT, self._trigger(user, "shortcut")
        )

    def profile_select(self, i: int) -> dict[str, Any]:
        requester = self.requesters[i % len(self.requesters)]
        user = requester.person.user_id
        view = self._slack.driver.current_view(user) or requester.form
        # A phase's requests are all built before it is sent, so the hash would be stale
        # for all but the first: without one, each views.update applies (the real work).
        view.pop("hash", None)
        found = find_element(view["blocks"], ActionId.PROFILE_SELECT)
        assert found is not None, "the request form has no profile select"
        block, element = found
        state = chosen_state(element, BENCH_PROFILE, self._slack.workspace)
        view["state"]["values"].setdefault(block["block_id"], {})[element["action_id"]] = state
        action = self._builder.action(block, element, state)
        trigger = self._trigger(user, "block_actions", view["id"])
        return self._builder.view_block_actions(user, view, action, trigger)

    def device_search(self, i: int) -> dict[str, Any]:
        requester = self.requesters[i % len(self.requesters)]
        query = requester.queries[(i // len(self.requesters)) % len(requester.queries)]
        found = find_element(requester.form["blocks"], ActionId.DEVICE_SELECT)
        assert found is not None, "the request form has no device select"
        return self._builder.block_suggestion(
            requester.person.user_id,
            requester.form,
            found[0]["block_id"],
            ActionId.DEVICE_SELECT,
            query,
        )

    def view_submission(self, i: int) -> dict[str, Any]:
        requester = self.requesters[i % len(self.requesters)]
        user = requester.person.user_id
        view = json.loads(json.dumps(requester.form))
        # A new request each time (a resubmitted form would be a duplicate, dropped early).
        view["private_metadata"] = ModalMetadata(new_id(), BENCH_PROFILE).encode()
        chosen: dict[str, Any] = {
            ActionId.PROFILE_SELECT: BENCH_PROFILE,
            ActionId.DEVICE_SELECT: requester.device_option["value"],
            ActionId.REASON_INPUT: f"benchmark {i}",
        }
        values: dict[str, dict[str, Any]] = {}
        for block, element in iter_elements(view["blocks"]):
            if element.get("type") not in STATEFUL_TYPES:
                continue
            action_id = element["action_id"]
            if action_id in chosen:
                state = chosen_state(
                    element, chosen[action_id], self._slack.workspace, [requester.device_option]
                )
            elif action_id == ActionId.DURATION_SELECT:
                state = chosen_state(element, element["options"][0]["value"], self._slack.workspace)
            else:
                state = initial_state(element) or empty_state(element)
            values.setdefault(block["block_id"], {})[action_id] = state
        view["state"] = {"values": values}
        trigger = self._trigger(user, "view_submission", view["id"])
        return self._builder.view_submission(user, view, trigger)

    def button(self, i: int) -> dict[str, Any]:
        seen = self.sightings[i % len(self.sightings)]
        action = self._builder.action(seen.block, seen.button, None)
        action["value"] = seen.button["value"]
        return self._builder.message_block_actions(
            user_id=seen.approver_id,
            message=seen.message,
            channel_name="directmessage",
            action=action,
            trigger_id=self._trigger(seen.approver_id, "block_actions"),
            response_url=f"{self._slack.base_url}/actions/bench-{i}",
        )

    def maker(self, kind: str) -> Callable[[int], dict[str, Any]]:
        makers: dict[str, Callable[[int], dict[str, Any]]] = {
            "shortcut": self.shortcut,
            "profile_select": self.profile_select,
            "device_search": self.device_search,
            "view_submission": self.view_submission,
            "button": self.button,
        }
        return makers[kind]


async def _open_form(system: BenchSystem, person: Person) -> Requester:
    """The person opens the form and picks the bench profile, through the emulator."""
    driver = system.slack.driver
    await driver.press_shortcut(person.user_id, CallbackId.REQUEST_SHORTCUT)
    view = await driver.wait_for_view(person.user_id, callback_id=CallbackId.REQUEST_MODAL)
    await driver.select(person.user_id, ActionId.PROFILE_SELECT, BENCH_PROFILE)
    form = await driver.wait_for_view(person.user_id, newer_than=view)
    device = system.harness.tailscale.device(person.devices[0]) or {}
    name = str(device.get("name", "")) or person.devices[0]
    ipv4 = next((a for a in device.get("addresses", []) if "." in a), "100.")
    queries = ["", name[:3], ".".join(ipv4.split(".")[:2]) + ".", person.devices[0]]
    option = {"text": {"type": "plain_text", "text": name[:75]}, "value": person.devices[0]}
    return Requester(person, form, queries, option)


# -- one phase: many interactions of one kind ------------------------------------------------


def _server_ack_ms(log_path: Path, offset: int) -> dict[str, list[float]]:
    """intake's own ack_ms per interaction, from its log after `offset` bytes."""
    found: dict[str, list[float]] = {}
    with log_path.open("rb") as log:
        log.seek(offset)
        for line in log:
            if b"interaction.handled" not in line:
                continue
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry.get("ack_ms"), int | float):
                key = f"{entry.get('type')}:{entry.get('name')}"
                found.setdefault(key, []).append(float(entry["ack_ms"]))
    return found


async def _wait_for_buttons(inbox: ApprovalInbox, wanted: int) -> list[Sighting]:
    for _ in range(int(BUTTONS_TIMEOUT / 0.1)):
        if len(inbox.found()) >= wanted:
            break
        await asyncio.sleep(0.1)
    return list(inbox.found().values())


@dataclass
class Measurement:
    """One run's phases against one running system."""

    system: BenchSystem
    client: Client
    payloads: Payloads
    top_level: int
    figures: RunFigures = field(default_factory=dict)
    cpu: dict[str, dict[str, int]] = field(default_factory=dict)
    warmed: set[str] = field(default_factory=set)

    async def measure(self, kind: str, level: int, count: int) -> Phase:
        """Settle, warm up once, then `count` interactions of `kind` at `level` concurrent."""
        system = self.system
        intake = system.harness.services["intake"]
        await system.settle(quiet=0.3, limit=30.0)
        make = self.payloads.maker(kind)
        if kind not in self.warmed:
            await self.client.run(make, Phase(kind, 1), WARMUP)
            self.warmed.add(kind)
        offset = intake.log_path.stat().st_size
        top = level == self.top_level
        meter = CpuMeter(system.pids())
        meter.start()
        began = time.monotonic()
        if top:
            system.profile(on=True)
        phase = await self.client.run(make, Phase(kind, level), count)
        if top:
            system.profile(on=False)
        shares = meter.stop()
        wall = time.monotonic() - began
        prefix = f"ack_{kind}_c{level}"
        self.figures.update(latency_figures(prefix, phase.latencies))
        own = [ms for v in _server_ack_ms(intake.log_path, offset).values() for ms in v]
        self.figures[f"intake_{kind}_c{level}_p99_ms"] = percentile(own, 99)
        if phase.failures or phase.refused:
            self.figures[f"{prefix}_failures"] = float(phase.failures)
            self.figures[f"{prefix}_refused"] = float(phase.refused)
        if top:
            self.cpu[kind] = {k: round(v) for k, v in shares.items()}
            # intake's CPU per interaction, the work after the ack included
            self.figures[f"intake_cpu_per_{kind}_ms"] = (
                10.0 * shares.get("intake", math.nan) * wall / max(count, 1)
            )
        print(
            f"   {kind:<16} x{len(phase.latencies):<5} at {level:>3} concurrent: "
            f"p50 {self.figures[prefix + '_p50_ms']:7.2f} ms  "
            f"p99 {self.figures[prefix + '_p99_ms']:7.2f} ms  "
            f"(intake's own ack p99 {percentile(own, 99):.2f} ms"
            f"; failures {phase.failures}, refused {phase.refused})"
        )
        return phase


async def one_run(
    args: argparse.Namespace, levels: Sequence[int], profile: Sequence[str]
) -> tuple[RunFigures, Any]:
    async with running_system(
        requesters=args.requesters,
        devices=args.devices,
        slack_mode="http",
        # Requests are built (trigger ids issued) before a phase is sent: keep them valid.
        slack_options={"rate_limits": {"*": None}, "trigger_ttl": 900.0},
        profile=profile,
    ) as system:
        intake = system.harness.services["intake"]
        url = f"http://127.0.0.1:{intake.env['SLACK_HTTP_PORT']}/slack/events"
        pool = ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn"))
        client = Client(url, RequestSigner(system.harness.slack_signing_secret), pool)
        inbox = ApprovalInbox(system.slack, system.approvers, interval=0.05)
        inbox.start()
        run = Measurement(system, client, Payloads(system), max(levels))
        try:
            people = system.requesters
            for start in range(0, len(people), 10):
                run.payloads.requesters += await asyncio.gather(
                    *(_open_form(system, p) for p in people[start : start + 10])
                )
            submitted = 0
            for level in levels:
                count = args.samples if level == 1 else args.concurrent_samples
                for kind in KINDS:
                    if kind == "button":
                        run.payloads.sightings = await _wait_for_buttons(inbox, submitted)
                    phase = await run.measure(kind, level, count)
                    if kind == "view_submission":
                        submitted += len(phase.latencies) - phase.refused
        finally:
            await inbox.stop()
            pool.shutdown()
        system.profile_report(args.results_dir, NAME)
        return run.figures, {"cpu_percent_at_max_concurrency": run.cpu}


def main() -> None:
    args = parse_args(__doc__ or TITLE, extra=_options)
    levels = sorted({int(x) for x in args.concurrency.split(",") if x.strip()})
    if args.samples is None:
        args.samples = 20 if args.quick else 100
    if args.concurrent_samples is None:
        args.concurrent_samples = 200 if args.quick else 1000
    report = Report(
        NAME,
        TITLE,
        params={
            "runs": args.runs,
            "quick": args.quick,
            "samples_at_1": args.samples,
            "samples_concurrent": args.concurrent_samples,
            "concurrency": levels,
            "devices": args.devices,
            "requesters": args.requesters,
        },
        targets=[
            Target(
                f"ack_{kind}_c{TARGET_CONCURRENCY}_p99_ms",
                f"{kind} ack p99 @{TARGET_CONCURRENCY}",
                TARGET_P99_MS,
                "ms",
            )
            for kind in KINDS
        ]
        if TARGET_CONCURRENCY in levels
        else [],
    )
    report.notes.append(
        "ack_* is measured by the client (send -> whole response); intake_* is intake's "
        "own ack_ms from its log (handler start -> ack): the gap is queueing"
    )
    report.header()
    profile = [s for s in args.profile.split(",") if s]
    for run in range(args.runs):
        print(f"-- run {run + 1}: measuring")
        figures, detail = asyncio.run(one_run(args, levels, profile if run == 0 else []))
        report.add_run(figures, detail, show=False)
        print(f"   CPU % of one core at {max(levels)} concurrent, by phase:")
        for kind, shares in detail["cpu_percent_at_max_concurrency"].items():
            print(f"     {kind:<16} {shares}")
    report.finish(args.results_dir)


if __name__ == "__main__":
    main()
