"""Idempotent provisioning of the streams and KV buckets (docs/architecture.md, Streams/State).

Run by every service at start. A missing stream or bucket is created; an existing
one is compared with what is wanted and any difference is reported as drift (never
silently changed: an operator decides).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import (
    DiscardPolicy,
    KeyValueConfig,
    RetentionPolicy,
    StorageType,
    StreamConfig,
    StreamInfo,
)
from nats.js.errors import BadRequestError, NotFoundError

from shared.consumers import ConsumerSpec
from shared.contracts.subjects import (
    ACCESS_STREAM,
    ACCESS_SUBJECTS,
    DEADLETTER_STREAM,
    DEADLETTER_SUBJECTS,
    MAX_DELIVERIES_ADVISORY,
    TIMERS_STREAM,
    TIMERS_SUBJECTS,
    Bucket,
)
from shared.permissions import SIEM_ACCOUNT, SIEM_JS_API

DUPLICATE_WINDOW_SECONDS = 120.0
DAY = 86400.0
BUCKET_HISTORY: dict[Bucket, int] = {
    Bucket.REQUESTS: 5,
    Bucket.GRANTS: 5,
    Bucket.DEVICES: 1,
    Bucket.SLACK_MESSAGES: 1,
    Bucket.AUTO_APPROVALS: 1,
    Bucket.DEVICE_CLAIMS: 1,
}


@dataclass(frozen=True, slots=True)
class Drift:
    """One setting of an existing stream that differs from what is wanted."""

    stream: str
    setting: str
    wanted: Any
    actual: Any

    def __str__(self) -> str:
        if self.setting == "num_replicas":
            return (
                f"stream {self.stream}: {self.actual} replica(s), STREAM_REPLICAS wants "
                f"{self.wanted}; run `accessbot replicas --set {self.wanted}` as admin to move it"
            )
        return f"stream {self.stream}: {self.setting} is {self.actual!r}, wanted {self.wanted!r}"


@dataclass(slots=True)
class ProvisionReport:
    """What provisioning did."""

    created: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    drift: list[Drift] = field(default_factory=list)


def access_stream_config(*, max_age_days: int, replicas: int) -> StreamConfig:
    """ACCESS: transport and audit log."""
    return StreamConfig(
        name=ACCESS_STREAM,
        description="Accessbot events: transport and audit log",
        subjects=[ACCESS_SUBJECTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=max_age_days * DAY,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )


def timers_stream_config(*, replicas: int) -> StreamConfig:
    """TIMERS: message schedules (ADR-51); one schedule per subject replaces the last."""
    return StreamConfig(
        name=TIMERS_STREAM,
        description="Accessbot timers: pending-request and grant expiry schedules",
        subjects=[TIMERS_SUBJECTS],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_msgs_per_subject=1,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        allow_msg_schedules=True,
        num_replicas=replicas,
    )


def deadletter_stream_config(*, max_age_days: int, replicas: int) -> StreamConfig:
    """DEADLETTER: dead-letter records, replays, and JetStream's max-deliveries advisories
    (kept here so one that fires while its service is down is still recorded)."""
    return StreamConfig(
        name=DEADLETTER_STREAM,
        description="Accessbot dead letters: records, replays, max-deliveries advisories",
        subjects=[DEADLETTER_SUBJECTS, f"{MAX_DELIVERIES_ADVISORY}.>"],
        retention=RetentionPolicy.LIMITS,
        storage=StorageType.FILE,
        discard=DiscardPolicy.OLD,
        max_age=max_age_days * DAY,
        duplicate_window=DUPLICATE_WINDOW_SECONDS,
        num_replicas=replicas,
    )


# Records about requests live as long as the events about them; the device inventory is
# rewritten by grants' sync and never expires by age.
AGED_BUCKETS = (Bucket.REQUESTS, Bucket.GRANTS, Bucket.SLACK_MESSAGES, Bucket.DEVICE_CLAIMS)
# A day's auto-approval budget matters during that day only, and a day lasts at most 25
# hours in any zone: two days after the last write keep it safely.
SHORT_LIVED_BUCKETS: dict[Bucket, float] = {Bucket.AUTO_APPROVALS: 2 * DAY}


def bucket_config(bucket: Bucket, *, replicas: int, max_age_days: int = 400) -> KeyValueConfig:
    """A KV bucket of the State table in docs/architecture.md."""
    return KeyValueConfig(
        bucket=bucket.value,
        history=BUCKET_HISTORY[bucket],
        storage=StorageType.FILE,
        replicas=replicas,
        direct=True,
        ttl=SHORT_LIVED_BUCKETS.get(bucket)
        or (max_age_days * DAY if bucket in AGED_BUCKETS else None),
    )


_COMPARED = (
    "subjects",
    "retention",
    "storage",
    "max_age",
    "duplicate_window",
    "num_replicas",
    "allow_msg_schedules",
    "max_msgs_per_subject",
)


def _norm(name: str, value: Any) -> Any:
    if name == "allow_msg_schedules":
        return bool(value)
    if name in ("max_age", "duplicate_window") and value is not None:
        return round(float(value), 3)
    if name == "max_msgs_per_subject" and value is None:
        return -1
    return value


def compare(wanted: StreamConfig, actual: StreamConfig) -> list[Drift]:
    """Differences that matter between a wanted and an existing stream config."""
    drift = []
    for name in dict.fromkeys(_COMPARED):
        w, a = _norm(name, getattr(wanted, name)), _norm(name, getattr(actual, name))
        if w is None or (name == "max_msgs_per_subject" and w == -1 and a in (0, -1)):
            continue
        if w != a:
            drift.append(Drift(wanted.name or "?", name, w, a))
    return drift


# "stream name already in use": created by another replica between our look and our create
# with a config that differs in a detail the server fills in; what it holds is compared next.
STREAM_NAME_IN_USE = 10058


# In a cluster a stream is answered by the servers its assignment has reached: right after
# a create returns, a request served elsewhere can still say "stream not found"
# (nats-server#4600). Provisioning returns only once what it made (or saw made) answers,
# so a service's next step, `js.key_value(...)`, never meets a bucket that "is missing".
READABLE_WAIT_SECONDS = 10.0
READABLE_POLL_SECONDS = 0.1


class NotReadableYetError(Exception):
    """A stream was created but is still not found READABLE_WAIT_SECONDS later."""


async def readable_stream_info(
    js: JetStreamContext, name: str, *, wait: float = READABLE_WAIT_SECONDS
) -> StreamInfo:
    """The info of a stream just created, asked again (bounded) while it is not found."""
    give_up = time.monotonic() + wait
    while True:
        try:
            return await js.stream_info(name)
        except NotFoundError:
            if time.monotonic() + READABLE_POLL_SECONDS >= give_up:
                raise NotReadableYetError(
                    f"stream {name} was created but is still not found after {wait:.0f}s"
                ) from None
            await asyncio.sleep(READABLE_POLL_SECONDS)


async def _created(create: Awaitable[object]) -> bool:
    """Run a create; False when another replica created the stream first."""
    try:
        await create
    except BadRequestError as exc:
        if exc.err_code != STREAM_NAME_IN_USE:
            raise
        return False
    return True


async def _ensure_stream(
    js: JetStreamContext, wanted: StreamConfig, report: ProvisionReport
) -> None:
    name = wanted.name or ""
    try:
        info = await js.stream_info(name)
    except NotFoundError:
        created = await _created(js.add_stream(wanted))
        info = await readable_stream_info(js, name)  # else another replica created it just now
        if created:
            report.created.append(name)
            return
    drift = compare(wanted, info.config)
    if drift:
        report.drift.extend(drift)
    else:
        report.unchanged.append(name)


async def _ensure_bucket(
    js: JetStreamContext, wanted: KeyValueConfig, report: ProvisionReport
) -> None:
    stream = f"KV_{wanted.bucket}"
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        created = await _created(js.create_key_value(wanted))
        info = await readable_stream_info(js, stream)  # else another replica created it just now
        if created:
            report.created.append(stream)
            return
    actual = info.config
    checks = (
        ("num_replicas", wanted.replicas, actual.num_replicas),
        ("storage", wanted.storage, actual.storage),
        ("max_age", _norm("max_age", wanted.ttl or 0.0), _norm("max_age", actual.max_age or 0.0)),
    )
    drift = [Drift(stream, name, w, a) for name, w, a in checks if w != a]
    if drift:
        report.drift.extend(drift)
    else:
        report.unchanged.append(stream)


SIEM_COPY = f"{SIEM_ACCOUNT}/{ACCESS_STREAM}"


def siem_copy_config(*, max_age_days: int, replicas: int) -> StreamConfig:
    """The SIEM account's ACCESS: the same events (imported from `access.>`), kept as long."""
    config = access_stream_config(max_age_days=max_age_days, replicas=replicas)
    config.description = "Accessbot events: the siem user's read-only copy"
    return config


async def _ensure_siem_copy(
    js: JetStreamContext, wanted: StreamConfig, report: ProvisionReport
) -> None:
    """Created next to ACCESS, before any event, so the copy misses none. Reported as
    `SIEM/ACCESS`."""
    siem_js = js._nc.jetstream(prefix=SIEM_JS_API)
    own = ProvisionReport()
    await _ensure_stream(siem_js, wanted, own)
    report.created += [SIEM_COPY for _ in own.created]
    report.unchanged += [SIEM_COPY for _ in own.unchanged]
    report.drift += [Drift(SIEM_COPY, d.setting, d.wanted, d.actual) for d in own.drift]


async def provision(
    js: JetStreamContext, *, max_age_days: int = 400, replicas: int = 1
) -> ProvisionReport:
    """Create what is missing; report drift in what exists. Safe to run any number of times."""
    report = ProvisionReport()
    await _ensure_stream(
        js, access_stream_config(max_age_days=max_age_days, replicas=replicas), report
    )
    await _ensure_siem_copy(
        js, siem_copy_config(max_age_days=max_age_days, replicas=replicas), report
    )
    await _ensure_stream(js, timers_stream_config(replicas=replicas), report)
    await _ensure_stream(
        js, deadletter_stream_config(max_age_days=max_age_days, replicas=replicas), report
    )
    for bucket in Bucket:
        await _ensure_bucket(
            js, bucket_config(bucket, replicas=replicas, max_age_days=max_age_days), report
        )
    return report


@dataclass(frozen=True, slots=True)
class ConsumerUpdate:
    """An existing consumer whose delivery bound was brought to what is wanted."""

    durable: str
    was: int
    now: int


async def bound_deliveries(js: JetStreamContext, specs: list[ConsumerSpec]) -> list[ConsumerUpdate]:
    """Give existing consumers of `specs` their `max_deliver` (consumers made before it
    existed retry a poison message for ever). Missing consumers are left to the
    subscribers, which create them with it; only `max_deliver` is changed (editable)."""
    updates = []
    for spec in specs:
        try:
            info = await js.consumer_info(spec.stream, spec.durable)
        except NotFoundError:
            continue
        was = info.config.max_deliver or -1
        if was == spec.max_deliver:
            continue
        info.config.max_deliver = spec.max_deliver
        await js.add_consumer(spec.stream, info.config)
        updates.append(ConsumerUpdate(spec.durable, was, spec.max_deliver))
    return updates


@dataclass(frozen=True, slots=True)
class ReplicaMove:
    """One stream (or bucket) whose replicas were changed."""

    stream: str
    was: int
    now: int

    def __str__(self) -> str:
        return f"{self.stream}: R{self.was} -> R{self.now}"


def managed_streams() -> list[str]:
    """Every stream provisioning makes (KV buckets are streams `KV_<bucket>`)."""
    return [
        ACCESS_STREAM,
        TIMERS_STREAM,
        DEADLETTER_STREAM,
        *(f"KV_{bucket.value}" for bucket in Bucket),
    ]


async def _move(js: JetStreamContext, name: str, replicas: int, label: str) -> ReplicaMove | None:
    info = await js.stream_info(name)
    was = info.config.num_replicas or 1
    if was == replicas:
        return None
    info.config.num_replicas = replicas
    await js.update_stream(info.config)  # NATS allows changing num_replicas in place
    return ReplicaMove(label, was, replicas)


async def move_replicas(js: JetStreamContext, replicas: int) -> list[ReplicaMove]:
    """Bring every stream and bucket (and the SIEM copy) to `replicas`, in place: JetStream
    copies the data to the new peers, and consumers that inherit the stream's replicas
    follow. Needs the admin user (services may only create and inspect)."""
    moves = [await _move(js, name, replicas, name) for name in managed_streams()]
    siem_js = js._nc.jetstream(prefix=SIEM_JS_API)
    moves.append(await _move(siem_js, ACCESS_STREAM, replicas, SIEM_COPY))
    return [move for move in moves if move is not None]
