"""Approve click -> posture attribute POSTed to Tailscale, with all four services running.

Each run starts the whole system (`bench.system`), files the requests, waits until
every approval DM is there and the system is quiet, then approves them one at a
time: the figure is from just before the Approve press to the moment the Tailscale
emulator recorded the attribute POST for that request (matched by the request id
in the change's comment). Stored-event times split it up: intake (press ->
decision.submitted), approvals (-> request.approved), grants (-> POST), and the
POST's own answer (-> grant.applied stored).

    python -m bench.approve_to_applied [--runs N] [--quick] [--samples N] [--cluster]

`--cluster` runs the same against a three-node NATS cluster with every stream at R3
(each publish and ack is then agreed by two of three nodes); its result is written as
approve_to_applied_cluster.json.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench.report import Report, RunFigures, Target, latency_figures, parse_args
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

NAME = "approve_to_applied"
TITLE = "approve click -> attribute set on Tailscale"
POST_TIMEOUT = 15.0
DM_TIMEOUT = 90.0  # for all approval DMs of a run to appear
FILING_CONCURRENCY = 10


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--samples", type=int, default=None, help="approvals per run (60)")
    parser.add_argument("--slack-mode", choices=("socket", "http"), default="socket")
    parser.add_argument("--cluster", action="store_true", help="three NATS nodes, everything at R3")


async def _file_all(system: BenchSystem, count: int) -> list[str]:
    """`count` requests, filed by the requesters in turn (a few at once)."""
    people = system.requesters
    step = min(FILING_CONCURRENCY, len(people))  # a person has one modal at a time
    ids: list[str] = []
    for start in range(0, count, step):
        batch = [(i, people[i % len(people)]) for i in range(start, min(start + step, count))]
        ids += await asyncio.gather(
            *(
                file_request(system.slack, p, device_query=_device(p, i // len(people)))
                for i, p in batch
            )
        )
    return ids


def _device(person: Person, turn: int) -> str:
    """The person's devices in turn: one live request per (profile, device) may be open
    (docs/architecture.md, "One device, one profile, one grant"). Empty: the first offered."""
    return person.devices[turn % len(person.devices)] if person.devices else ""


async def _post_seen(system: BenchSystem, request_id: str, since: int) -> float:
    """When the emulator received the attribute POST carrying `request_id` in its comment."""
    deadline = time.monotonic() + POST_TIMEOUT
    while time.monotonic() < deadline:
        calls = system.harness.tailscale.calls
        for call in calls[since:]:
            if call.method != "POST" or "/attributes/" not in call.path:
                continue
            comment = (call.request_json or {}).get("comment") or ""
            if request_id in str(comment):
                return call.monotonic
        await asyncio.sleep(0.005)
    raise TimeoutError(f"no attribute POST for {request_id} in {POST_TIMEOUT}s")


async def one_run(
    samples: int, slack_mode: str, *, cluster: bool = False
) -> tuple[RunFigures, dict[str, Any]]:
    async with running_system(
        requesters=20,
        slack_mode=slack_mode,
        cluster=cluster,
        # Filing the samples is a burst; with Slack's per-channel posting limit the
        # notifier would wait out 429s on the audit channel for a minute or more first.
        slack_options={"rate_limits": {"*": None}},
    ) as system:
        clock = EventClock(system.harness)
        await clock.start()
        inbox = ApprovalInbox(system.slack, system.approvers)
        inbox.start()
        failures: list[str] = []
        try:
            ids = await _file_all(system, samples)
            deadline = time.monotonic() + DM_TIMEOUT
            ready: list[str] = []
            for request_id in ids:
                try:
                    await inbox.wait(request_id, timeout=max(0.1, deadline - time.monotonic()))
                    ready.append(request_id)
                except TimeoutError as exc:
                    failures.append(str(exc))
            await system.settle()
            totals: list[float] = []
            parts: dict[str, list[float]] = {k: [] for k in ("intake", "approvals", "grants")}
            answer: list[float] = []
            for request_id in ready:
                since = len(system.harness.tailscale.calls)
                try:
                    pressed = await approve(system.slack, inbox, request_id)
                    posted = await _post_seen(system, request_id, since)
                    applied = await clock.wait(Subject.GRANT_APPLIED, request_id)
                except TimeoutError as exc:
                    failures.append(str(exc))
                    continue
                decided = clock.when(Subject.DECISION_SUBMITTED, request_id)
                approved = clock.when(Subject.REQUEST_APPROVED, request_id)
                totals.append(posted - pressed)
                if decided is not None and approved is not None:
                    parts["intake"].append(decided - pressed)
                    parts["approvals"].append(approved - decided)
                    parts["grants"].append(posted - approved)
                answer.append(applied - posted)
                await system.settle(quiet=0.15, limit=3.0)
        finally:
            await inbox.stop()
            await clock.stop()
        figures = latency_figures("approve_to_post", totals)
        for name, values in parts.items():
            figures.update(
                {
                    k: v
                    for k, v in latency_figures(f"part_{name}", values).items()
                    if not k.endswith("_max_ms")
                }
            )
        figures["post_to_applied_stored_p50_ms"] = latency_figures("x", answer)["x_p50_ms"]
        figures["samples"] = float(len(totals))
        figures["failures"] = float(len(failures))
        for failure in failures:
            print(f"   failed: {failure}")
        detail = {"samples_ms": [round(1000 * t, 2) for t in totals], "failures": failures}
        return figures, detail


def main() -> None:
    args = parse_args(__doc__ or TITLE, extra=_options)
    samples = args.samples or (10 if args.quick else 60)
    report = Report(
        f"{NAME}_cluster" if args.cluster else NAME,
        f"{TITLE} (3-node NATS cluster, R3)" if args.cluster else TITLE,
        params={
            "runs": args.runs,
            "quick": args.quick,
            "samples": samples,
            "slack_mode": args.slack_mode,
            "cluster": args.cluster,
        },
        targets=[
            Target("approve_to_post_p50_ms", "approve -> applied p50", 50, "ms"),
            Target("approve_to_post_p99_ms", "approve -> applied p99", 150, "ms"),
        ],
        units={"samples": "", "failures": ""},
    )
    report.notes.append(
        "part_* split each sample by when events were stored: intake = press -> "
        "decision.submitted, approvals = -> request.approved, grants = -> attribute POST"
    )
    report.header()
    for _ in range(args.runs):
        figures, detail = asyncio.run(one_run(samples, args.slack_mode, cluster=args.cluster))
        report.add_run(figures, detail)
    report.finish(args.results_dir)


if __name__ == "__main__":
    main()
