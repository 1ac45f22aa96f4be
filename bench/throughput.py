"""Sustained complete flows per second with many simulated people at once.

Each run starts the whole system (`bench.system`, Slack rate limits off) and lets
`--users` simulated requesters loop without pause for `--warmup` + `--duration`
seconds: open the form, pick the profile, search devices, submit, then an
approver presses Approve on the DM the notifier posted, then wait until
`access.grant.applied` for that request is stored on ACCESS. A flow counts when
its grant.applied is stored inside the measured window (after the warm-up).

Also reported: the flows' end-to-end time (shortcut -> grant.applied stored), the
acknowledgement p99 the Slack emulator recorded for every interaction delivered
in the window, failed flows, and each process's CPU use during the window (to
see what is saturated - the benchmark process hosts both emulators and all the
simulated people, so it competes for the same two cores).

    python -m bench.throughput [--runs N] [--quick] [--users N] [--duration S]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.procfs import CpuMeter
from bench.report import Report, RunFigures, Target, latency_figures, parse_args, percentile
from bench.system import (
    ApprovalInbox,
    BenchSystem,
    EventClock,
    Person,
    approve,
    file_request,
    running_system,
)
from shared.contracts.subjects import Subject

NAME = "throughput"
TITLE = "sustained complete flows (submit -> approve -> applied)"
FLOW_TIMEOUT = 30.0
DRAIN_SECONDS = 15.0
TARGET_FLOWS = 100.0
TARGET_ACK_P99_MS = 1000.0
# A person files at most about one flow a second (a flow takes 1.5-2 s end to end), on a
# device of its own each time: one live grant per (profile, device). The emulator deals
# personal devices (four in five) to owners at random, so the unluckiest of 60 owners gets
# about two thirds of the mean: three devices per user per second of the run leave room.
DEVICES_PER_USER_PER_SECOND = 3
MIN_DEVICES_PER_USER = 25


def devices_for(users: int, seconds: float) -> int:
    """Devices in the emulated tailnet: enough that nobody files twice on one device."""
    return users * max(MIN_DEVICES_PER_USER, math.ceil(DEVICES_PER_USER_PER_SECOND * seconds))


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--users", type=int, default=None, help="simulated requesters (150)")
    parser.add_argument("--duration", type=float, default=None, help="measured seconds (20)")
    parser.add_argument("--warmup", type=float, default=None, help="unmeasured seconds (10)")
    parser.add_argument("--slack-mode", choices=("socket", "http"), default="socket")
    parser.add_argument(
        "--profile",
        default="",
        help="comma-separated services to cProfile during the measured window (first run)",
    )


@dataclass
class Load:
    """What the simulated people did."""

    flows: list[Flow] = field(default_factory=list)
    failures: Counter[str] = field(default_factory=Counter)
    first_failure: dict[str, str] = field(default_factory=dict)  # one message per kind


@dataclass(frozen=True)
class Flow:
    """Moments (time.monotonic) of one complete flow."""

    request_id: str
    started: float  # the shortcut is pressed
    submitted: float  # the submission was acknowledged
    button_seen: float  # the Approve button is in an approver's DM
    pressed: float
    applied: float  # grant.applied is stored


async def person_loop(
    system: BenchSystem,
    person: Person,
    *,
    inbox: ApprovalInbox,
    clock: EventClock,
    stop_at: float,
    load: Load,
) -> None:
    """One requester filing requests back to back until `stop_at`."""
    turn = 0
    while time.monotonic() < stop_at:
        started = time.monotonic()
        # One live request per (profile, device): the person's devices in turn (a device
        # still holding an earlier flow's grant answers with the Extend form: a failure).
        device = person.devices[turn % len(person.devices)] if person.devices else ""
        turn += 1
        try:
            request_id = await file_request(system.slack, person, device_query=device)
            submitted = time.monotonic()
            pressed = await approve(system.slack, inbox, request_id)
            applied = await clock.wait(Subject.GRANT_APPLIED, request_id, timeout=FLOW_TIMEOUT)
        except Exception as exc:  # noqa: BLE001 - count it, pause, go on: the load must go on
            load.failures[type(exc).__name__] += 1
            load.first_failure.setdefault(type(exc).__name__, str(exc)[:300])
            await asyncio.sleep(0.5)
            continue
        seen = (await inbox.wait(request_id)).seen_at
        load.flows.append(Flow(request_id, started, submitted, seen, pressed, applied))


def _stages(flows: list[Flow], clock: EventClock) -> RunFigures:
    """Median time of each stage of the counted flows."""
    stages: dict[str, list[float]] = {
        "stage_form_p50_ms": [f.submitted - f.started for f in flows],
        "stage_to_approval_requested_p50_ms": [],
        "stage_to_dm_button_p50_ms": [],
        "stage_approve_to_applied_p50_ms": [f.applied - f.pressed for f in flows],
    }
    for f in flows:
        asked = clock.when(Subject.APPROVAL_REQUESTED, f.request_id)
        if asked is not None:
            stages["stage_to_approval_requested_p50_ms"].append(asked - f.submitted)
            stages["stage_to_dm_button_p50_ms"].append(f.button_seen - asked)
    return {k: percentile([1000 * v for v in vs], 50) for k, vs in stages.items()}


async def one_run(
    *,
    users: int,
    duration: float,
    warmup: float,
    slack_mode: str,
    profile: list[str],
    results_dir: Path,
) -> tuple[RunFigures, dict[str, Any]]:
    async with running_system(
        requesters=users,
        devices=devices_for(users, warmup + duration),
        slack_mode=slack_mode,
        slack_options={"rate_limits": {"*": None}},
        profile=profile,
    ) as system:
        clock = EventClock(system.harness)
        await clock.start()
        inbox = ApprovalInbox(system.slack, system.approvers, interval=0.05)
        inbox.start()
        load = Load()
        meter = CpuMeter(system.pids())
        begin = time.monotonic()
        window = (begin + warmup, begin + warmup + duration)
        tasks = [
            asyncio.create_task(
                person_loop(system, p, inbox=inbox, clock=clock, stop_at=window[1], load=load)
            )
            for p in system.requesters
        ]
        try:
            await asyncio.sleep(warmup)
            wall_start = time.time()
            meter.start()
            system.profile(on=True)
            await asyncio.sleep(duration)
            system.profile(on=False)
            cpu = meter.stop()
            wall_end = time.time()
            _, late = await asyncio.wait(tasks, timeout=DRAIN_SECONDS)
            for task in late:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        finally:
            await inbox.stop()
            await clock.stop()
        counted = [f for f in load.flows if window[0] <= f.applied <= window[1]]
        acks = [
            a
            for a in system.slack.acks
            if wall_start <= a.time <= wall_end and a.latency is not None
        ]
        figures: RunFigures = {
            "flows_per_s": len(counted) / duration,
            "ack_p99_ms": percentile([1000 * a.latency for a in acks if a.latency], 99),
        }
        for kind in sorted({a.payload_type for a in acks}):
            figures[f"ack_{kind}_p99_ms"] = percentile(
                [1000 * a.latency for a in acks if a.payload_type == kind and a.latency], 99
            )
        figures.update(latency_figures("flow", [f.applied - f.started for f in counted]))
        figures.update(_stages(counted, clock))
        for name, share in cpu.items():
            # CPU each process spent per counted flow: what a flow costs, wherever it queues.
            spent_ms = 10.0 * share * duration  # share is % of one core over `duration`
            figures[f"cpu_per_flow_{name}_ms"] = spent_ms / len(counted) if counted else math.nan
        figures["failed_flows"] = float(sum(load.failures.values()))
        figures["unacked"] = float(
            sum(1 for a in system.slack.acks if wall_start <= a.time <= wall_end and not a.acked)
        )
        detail = {
            "users": len(system.requesters),
            "flows_in_window": len(counted),
            "acks_in_window": len(acks),
            "failures": dict(load.failures),
            "cpu_percent": {k: round(v) for k, v in cpu.items()},
            "violations": Counter(v.kind for v in system.slack.violations),
        }
        print(
            f"   {len(counted)} flows in {duration:g} s with {len(system.requesters)} people; "
            f"CPU % of one core: {detail['cpu_percent']}"
        )
        if load.failures:
            print(f"   failures: {dict(load.failures)}")
            for kind, text in load.first_failure.items():
                print(f"   first {kind}: {text}")
        system.profile_report(results_dir, NAME)
        return figures, detail


def main() -> None:
    args = parse_args(__doc__ or TITLE, extra=_options)
    users = args.users or (20 if args.quick else 150)
    duration = args.duration or (5.0 if args.quick else 20.0)
    warmup = args.warmup if args.warmup is not None else (2.0 if args.quick else 10.0)
    report = Report(
        NAME,
        TITLE,
        params={
            "runs": args.runs,
            "quick": args.quick,
            "users": users,
            "duration_s": duration,
            "warmup_s": warmup,
            "slack_mode": args.slack_mode,
        },
        targets=[
            Target("flows_per_s", "complete flows per second", TARGET_FLOWS, "/s", at_least=True),
            Target("ack_p99_ms", "ack p99 under that load", TARGET_ACK_P99_MS, "ms"),
        ],
        units={"flows_per_s": "/s", "failed_flows": "", "unacked": ""},
    )
    report.header()
    profile = [s for s in args.profile.split(",") if s]
    for run in range(args.runs):
        figures, detail = asyncio.run(
            one_run(
                users=users,
                duration=duration,
                warmup=warmup,
                slack_mode=args.slack_mode,
                profile=profile if run == 0 else [],
                results_dir=args.results_dir,
            )
        )
        report.add_run(figures, detail)
    report.finish(args.results_dir)


if __name__ == "__main__":
    main()
