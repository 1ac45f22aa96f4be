"""Helpers of the cluster suite, on top of tests/e2e/support.py.

Every flow goes through the Slack emulator as in the end-to-end suite; what is
checked is the event stream, the Tailscale emulator's call log and what Slack shows.
"""

from __future__ import annotations

import asyncio
import re
from collections import Counter
from collections.abc import Iterable

from accessbot.harness import Harness
from accessbot.natscluster import NatsCluster
from accessbot.scenario import press_in_dm
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId
from shared.subscribing import ACK_WAIT_SECONDS
from tests.e2e.support import AUDIT_CHANNEL, TIMEOUT, about, shown_text, submit, uid

REQUESTERS = ("dana@example.com", "carol@example.com", "secops@example.com")
# Waiting for an approver's DM allows one ack wait (see `approve_all`).
APPROVE_TIMEOUT = ACK_WAIT_SECONDS + TIMEOUT
APPROVER = "bob@example.com"
# `short` (tests/e2e/profiles.yaml): bob approves, at most 4 s, so every flow ends by
# itself in grant.expired: a terminal state, reached through a TIMERS schedule.
PROFILE = "short"
ATTRIBUTE = "custom:shortAccess"
GRANT_SECONDS = 4


def cluster_of(harness: Harness) -> NatsCluster:
    """The harness's NATS, which in this suite is a cluster."""
    assert isinstance(harness.nats, NatsCluster)
    return harness.nats


def owned_devices(harness: Harness, email: str) -> list[str]:
    """The node ids of the devices `email` owns on the emulated tailnet."""
    return [
        str(d["nodeId"])
        for d in harness.tailscale.devices()
        if str(d.get("user", "")).lower() == email and not d.get("tags")
    ]


class DevicePool:
    """Hands out each requester's devices one at a time, so no two flows of a test share
    a (device, attribute): each POST and DELETE then belongs to exactly one request."""

    def __init__(self, harness: Harness) -> None:
        self._free = {email: owned_devices(harness, email) for email in REQUESTERS}

    def take(self, email: str) -> str:
        devices = self._free[email]
        assert devices, f"{email} has no device left for another flow"
        return devices.pop(0)


# What the form says when JetStream did not confirm within Slack's window (an election).
NOT_SAVED = "could not be submitted just now"
SUBMIT_ATTEMPTS = 3


async def submit_like_a_person(harness: Harness, email: str, device_id: str) -> str:
    """File one `short` request; submit again when the form says it could not be saved
    (intake answers Slack within 3 s, shorter than a leader election), as a person would."""
    for attempt in range(1, SUBMIT_ATTEMPTS + 1):
        try:
            return await submit(
                harness,
                email,
                PROFILE,
                reason="Cluster failover drill",
                duration_seconds=GRANT_SECONDS,
                device_id=device_id,
            )
        except AssertionError as exc:
            if NOT_SAVED not in str(exc) or attempt == SUBMIT_ATTEMPTS:
                raise
            await asyncio.sleep(1.0)
    raise AssertionError("unreachable")


async def file_many(harness: Harness, pool: DevicePool, count: int) -> list[str]:
    """`count` requests for `short`, the requesters filing at once (each one at a time)."""

    async def one_person(email: str, n: int) -> list[str]:
        return [await submit_like_a_person(harness, email, pool.take(email)) for _ in range(n)]

    shares = [count // len(REQUESTERS) + (i < count % len(REQUESTERS)) for i in range(3)]
    batches = await asyncio.gather(
        *(one_person(email, n) for email, n in zip(REQUESTERS, shares, strict=True))
    )
    return [rid for batch in batches for rid in batch]


async def approve_all(harness: Harness, request_ids: Iterable[str], gap: float = 0.0) -> None:
    """Bob presses Approve on each request's DM (waiting for the button).

    The wait includes one ack wait: an event handed to a replica just killed (or to a pull
    request it left behind at the consumer's leader) is redelivered only after it.
    """
    for rid in request_ids:
        await press_in_dm(
            harness.slack, uid(APPROVER), ActionId.APPROVE, rid, timeout=APPROVE_TIMEOUT
        )
        if gap:
            await asyncio.sleep(gap)


async def counts(harness: Harness, subject: Subject, request_ids: Iterable[str]) -> Counter[str]:
    """How many events on `subject` each request has."""
    wanted = set(request_ids)
    events = await harness.events(subject.value)
    return Counter(e.event.request_id for e in events if e.event.request_id in wanted)


async def wait_all(
    harness: Harness, subject: Subject, request_ids: list[str], timeout: float = 60.0
) -> Counter[str]:
    """Until every request has an event on `subject`; the counts then."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        seen = await counts(harness, subject, request_ids)
        missing = [rid for rid in request_ids if not seen[rid]]
        if not missing:
            return seen
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"no {subject.value} within {timeout}s for {missing}")
        await asyncio.sleep(0.25)


def tailscale_changes(harness: Harness, method: str, request_id: str) -> int:
    """Attribute changes (POST sets, DELETE removes) that carry or concern `request_id`.

    A POST names its request in the comment; a DELETE is counted by the device of the
    request's POST (each flow has its own device)."""
    posts = [
        c
        for c in harness.tailscale.calls_to("POST", rf"/attributes/{re.escape(ATTRIBUTE)}$")
        if request_id in str((c.request_json or {}).get("comment") or "")
    ]
    if method == "POST":
        return len(posts)
    devices = {c.path.split("/device/", 1)[1].split("/", 1)[0] for c in posts}
    return sum(
        len(harness.tailscale.calls_to("DELETE", rf"/device/{re.escape(d)}/attributes/"))
        for d in devices
    )


def duplicated_messages(harness: Harness, request_ids: Iterable[str]) -> list[str]:
    """Messages Slack shows twice: the same text about the same request posted twice in one
    conversation (the requester's DM, the approver's DM, the audit channel and its threads)."""
    conversations = {
        "audit": harness.slack.messages(AUDIT_CHANNEL),
        "approver": harness.slack.dms(uid(APPROVER)),
        **{email: harness.slack.dms(uid(email)) for email in REQUESTERS},
    }
    found = []
    for rid in request_ids:
        for where, messages in conversations.items():
            shown = Counter(shown_text(m) for m in about(messages, rid))
            found += [f"{rid} in {where}: {t[:80]!r} x{n}" for t, n in shown.items() if n > 1]
    return found


def posted_about(harness: Harness, request_id: str) -> int:
    """How many messages about `request_id` Slack holds in all those conversations."""
    conversations = [
        harness.slack.messages(AUDIT_CHANNEL),
        harness.slack.dms(uid(APPROVER)),
        *(harness.slack.dms(uid(email)) for email in REQUESTERS),
    ]
    return sum(len(about(messages, request_id)) for messages in conversations)
