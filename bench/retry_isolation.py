"""Approve -> attribute set for requests with no fault, while 10% of requests hit retries.

Each run starts the whole system (`bench.system`), files the requests (each on a
device of its own, so no two share a device's attribute, whose changes run in
order), waits until every approval DM is there and the system is quiet, then
presses Approve on one request every `--interval` seconds without waiting for the
previous one. Before pressing Approve on every tenth request, the Tailscale
emulator is told to answer that device's attribute POST with `--faults` 429s
(`Retry-After: 1`), so grants waits out its retries on it. The figure is, for the
requests with no fault, from just before the press to the moment the emulator
recorded the successful attribute POST: with one grant handled at a time, it
includes waiting behind the retrying ones.

    python -m bench.retry_isolation [--runs N] [--quick] [--samples N]
"""

from __future__ import annotations

import argparse
import asyncio
import time
from typing import Any

from bench.report import Report, RunFigures, Target, latency_figures, parse_args
from bench.system import ApprovalInbox, BenchSystem, approve, file_request, running_system
from emulators.tailscale import Fault

NAME = "retry_isolation"
TITLE = "approve -> attribute set, unfaulted requests, 10% of requests retrying"
POST_TIMEOUT = 30.0
DM_TIMEOUT = 90.0
FILING_CONCURRENCY = 10
FAULTED_EVERY = 10  # 10% of requests


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--samples", type=int, default=None, help="requests per run (60)")
    parser.add_argument("--interval", type=float, default=0.1, help="seconds between presses")
    parser.add_argument("--faults", type=int, default=3, help="429s per faulted request")


def _pairs(system: BenchSystem, count: int) -> list[tuple[int, str]]:
    """(requester index, device) pairs, each device used once."""
    pairs = [(i, d) for i, p in enumerate(system.requesters) for d in p.devices]
    if len(pairs) < count:
        raise SystemExit(f"only {len(pairs)} requester devices for {count} requests")
    # Round-robin over people, so a person's requests are spread out.
    pairs.sort(key=lambda pair: (system.requesters[pair[0]].devices.index(pair[1]), pair[0]))
    return pairs[:count]


async def _file_all(system: BenchSystem, pairs: list[tuple[int, str]]) -> list[str]:
    ids: list[str] = []
    for start in range(0, len(pairs), FILING_CONCURRENCY):
        batch = pairs[start : start + FILING_CONCURRENCY]
        ids += await asyncio.gather(
            *(
                file_request(system.slack, system.requesters[i], device_query=device)
                for i, device in batch
            )
        )
    return ids


async def _set_seen(system: BenchSystem, device: str, since: int) -> float:
    """When the emulator answered 200 to an attribute POST for `device`."""
    deadline = time.monotonic() + POST_TIMEOUT
    while time.monotonic() < deadline:
        for call in system.harness.tailscale.calls[since:]:
            ours = call.method == "POST" and f"/device/{device}/attributes/" in call.path
            if ours and call.status == 200:
                return call.monotonic
        await asyncio.sleep(0.005)
    raise TimeoutError(f"no successful attribute POST for {device} in {POST_TIMEOUT}s")


async def one_run(samples: int, interval: float, faults: int) -> tuple[RunFigures, dict[str, Any]]:
    async with running_system(requesters=20, slack_options={"rate_limits": {"*": None}}) as system:
        inbox = ApprovalInbox(system.slack, system.approvers)
        inbox.start()
        failures: list[str] = []
        clean: list[float] = []
        faulted: list[float] = []
        try:
            pairs = _pairs(system, samples)
            ids = await _file_all(system, pairs)
            deadline = time.monotonic() + DM_TIMEOUT
            for request_id in ids:
                await inbox.wait(request_id, timeout=max(0.1, deadline - time.monotonic()))
            await system.settle()
            since = len(system.harness.tailscale.calls)

            async def follow(index: int, request_id: str, device: str) -> None:
                hit = index % FAULTED_EVERY == FAULTED_EVERY - 1
                if hit:
                    path = rf"/device/{device}/attributes/"
                    system.harness.tailscale.inject(
                        Fault(kind="429", count=faults, retry_after=1, path=path, method="POST")
                    )
                try:
                    pressed = await approve(system.slack, inbox, request_id)
                    done = await _set_seen(system, device, since)
                except TimeoutError as exc:
                    failures.append(str(exc))
                    return
                (faulted if hit else clean).append(done - pressed)

            tasks = []
            for index, (request_id, (_, device)) in enumerate(zip(ids, pairs, strict=True)):
                tasks.append(asyncio.create_task(follow(index, request_id, device)))
                await asyncio.sleep(interval)
            await asyncio.gather(*tasks)
        finally:
            await inbox.stop()
        figures = latency_figures("unfaulted", clean)
        figures.update(latency_figures("faulted", faulted))
        figures["samples"] = float(len(clean) + len(faulted))
        figures["failures"] = float(len(failures))
        for failure in failures:
            print(f"   failed: {failure}")
        detail = {
            "unfaulted_ms": [round(1000 * t, 2) for t in clean],
            "faulted_ms": [round(1000 * t, 2) for t in faulted],
            "failures": failures,
        }
        return figures, detail


def main() -> None:
    args = parse_args(__doc__ or TITLE, extra=_options)
    samples = args.samples or (20 if args.quick else 60)
    report = Report(
        NAME,
        TITLE,
        params={
            "runs": args.runs,
            "quick": args.quick,
            "samples": samples,
            "interval": args.interval,
            "faults": args.faults,
        },
        targets=[
            Target("unfaulted_p50_ms", "approve -> applied p50 (no fault)", 50, "ms"),
            Target("unfaulted_p99_ms", "approve -> applied p99 (no fault)", 150, "ms"),
        ],
        units={"samples": "", "failures": ""},
    )
    report.notes.append(
        f"every {FAULTED_EVERY}th request's attribute POST answers {args.faults} x 429 "
        "(Retry-After: 1) first; faulted_* are those requests, for comparison"
    )
    report.header()
    for _ in range(args.runs):
        figures, detail = asyncio.run(one_run(samples, args.interval, args.faults))
        report.add_run(figures, detail)
    report.finish(args.results_dir)


if __name__ == "__main__":
    main()
