"""Device search latency, in-process against intake's DeviceIndex, at 10,000 and 50,000 devices.

The index is filled from the Tailscale emulator's generated inventory, converted the
way grants converts the API's devices (`services.grants.domain.inventory.snapshot`). Each
sample is what intake does for one block_suggestion: `DeviceIndex.search`, then the
option groups and the JSON ack body (`answer_*`); `search_*` is the search alone.

Queries are what people type: nothing (the picker just opened), the first 2-5
letters of a device name, an IP prefix (`100.87.`), or a whole nodeId. The requester
is a random owner; scope `any` is a profile with `devices: any` (their devices, then
everyone else's: the expensive path), scope `own` one with `devices: own`.
`after_change` is the first search after a device changed (the index re-sorts lazily).

    python -m bench.device_search [--runs N] [--quick] [--samples N] [--sizes 10000,50000]
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import time
from collections.abc import Callable
from functools import partial
from typing import Any

from bench.report import Report, RunFigures, Target, parse_args, percentile
from emulators.tailscale import generate_devices
from services.grants.domain.inventory import snapshot
from services.intake.domain.device_index import DeviceIndex
from services.intake.domain.device_options import device_option_groups, suggestion_response
from shared.contracts.events import DeviceSnapshot

NAME = "device_search"
TITLE = "device search latency (intake's in-memory index)"
KINDS = ("empty", "name_prefix", "ip_prefix", "node_id")
TARGET_SIZE = 10_000
TARGET_P99_MS = 20.0
AFTER_CHANGE_SAMPLES = 20


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--samples", type=int, default=None, help="searches per query kind (1000)")
    parser.add_argument("--sizes", default="10000,50000", help="inventory sizes (10000,50000)")


def build_index(size: int) -> tuple[DeviceIndex, list[DeviceSnapshot]]:
    devices = [snapshot(d) for d in generate_devices(size, seed=1)]
    index = DeviceIndex()
    for device in devices:
        index.put(device)
    index.loaded = True
    return index, devices


def make_query(kind: str, device: DeviceSnapshot, rng: random.Random) -> str:
    if kind == "empty":
        return ""
    if kind == "name_prefix":
        return device.name[: rng.randint(2, 5)]
    if kind == "ip_prefix":
        ipv4 = next((a for a in device.addresses if "." in a), "100.64.0.1")
        return ".".join(ipv4.split(".")[: rng.randint(2, 3)]) + "."
    return device.node_id


def answer(index: DeviceIndex, query: str, email: str, *, include_all: bool) -> bytes:
    """What intake computes for one suggestion: search, option groups, the ack's JSON."""
    found = index.search(query, requester_email=email, include_all=include_all)
    return json.dumps(suggestion_response(device_option_groups(found))).encode()


def _time_ms(work: Callable[[], Any]) -> float:
    started = time.perf_counter()
    work()
    return 1000.0 * (time.perf_counter() - started)


def measure(
    index: DeviceIndex, devices: list[DeviceSnapshot], samples: int, rng: random.Random
) -> RunFigures:
    size = len(devices)
    owners = sorted({d.owner for d in devices if d.owner and not d.tags})
    figures: RunFigures = {}
    for scope, include_all in (("any", True), ("own", False)):
        pooled: list[float] = []
        for kind in KINDS:
            timings_search: list[float] = []
            timings_answer: list[float] = []
            for _ in range(samples):
                target = rng.choice(devices)
                # Half the time people look for one of their own devices.
                email = target.owner if target.owner and rng.random() < 0.5 else rng.choice(owners)
                query = make_query(kind, target, rng)
                search = partial(
                    index.search, query, requester_email=email, include_all=include_all
                )
                timings_search.append(_time_ms(search))
                timings_answer.append(
                    _time_ms(partial(answer, index, query, email, include_all=include_all))
                )
            pooled += timings_answer
            if scope == "any":
                figures[f"answer_{scope}_{size}_{kind}_p50_ms"] = percentile(timings_answer, 50)
                figures[f"answer_{scope}_{size}_{kind}_p99_ms"] = percentile(timings_answer, 99)
                figures[f"search_{scope}_{size}_{kind}_p99_ms"] = percentile(timings_search, 99)
        figures[f"answer_{scope}_{size}_all_p50_ms"] = percentile(pooled, 50)
        figures[f"answer_{scope}_{size}_all_p99_ms"] = percentile(pooled, 99)
    # A changed device makes the next search re-sort everything once.
    after_change: list[float] = []
    for _ in range(AFTER_CHANGE_SAMPLES):
        changed = rng.choice(devices)
        flipped = not changed.connected_to_control
        index.put(changed.model_copy(update={"connected_to_control": flipped}))
        email = rng.choice(owners)
        after_change.append(_time_ms(partial(answer, index, "", email, include_all=True)))
    figures[f"answer_any_{size}_after_change_p50_ms"] = percentile(after_change, 50)
    figures[f"answer_any_{size}_after_change_max_ms"] = max(after_change)
    return figures


def main() -> None:
    args = parse_args(__doc__ or TITLE, extra=_options)
    sizes = [int(x) for x in args.sizes.split(",") if x.strip()]
    samples = args.samples or (200 if args.quick else 1000)
    report = Report(
        NAME,
        TITLE,
        params={
            "runs": args.runs,
            "quick": args.quick,
            "samples_per_kind": samples,
            "sizes": sizes,
        },
        targets=[
            Target(
                f"answer_any_{TARGET_SIZE}_{kind}_p99_ms",
                f"search p99 @{TARGET_SIZE:,} ({kind})",
                TARGET_P99_MS,
                "ms",
            )
            for kind in KINDS
        ]
        if TARGET_SIZE in sizes
        else [],
    )
    report.notes.append(
        "answer_* = search + option groups + JSON (what the user waits for); search_* = "
        "DeviceIndex.search alone; targets apply to answer_any_* (devices: any, the slow path)"
    )
    report.header()
    indexes: dict[int, tuple[DeviceIndex, list[DeviceSnapshot]]] = {}
    for size in sizes:
        started = time.perf_counter()
        indexes[size] = build_index(size)
        print(f"   built the {size:,}-device index in {time.perf_counter() - started:.1f} s")
    for run in range(args.runs):
        rng = random.Random(run)
        figures: RunFigures = {}
        for size in sizes:
            index, devices = indexes[size]
            gc.collect()
            figures.update(measure(index, devices, samples, rng))
        report.add_run(figures)
    report.finish(args.results_dir)


if __name__ == "__main__":
    main()
