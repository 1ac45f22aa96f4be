"""Approvals against a real nats-server, connected as the `approvals` user.

Inputs are published as intake and grants would (their own NATS users); outputs are
read back from the ACCESS stream with an admin pull subscription.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, DeliverPolicy

from accessbot.natsserver import EmbeddedNats
from services.approvals.bootstrap import build
from services.approvals.domain.record import GrantStatus, RequestRecord, RequestStatus
from shared.connection import connect
from shared.contracts.cloudevents import decode
from shared.contracts.events import (
    ApprovalMode,
    ApprovalRequested,
    Decision,
    DecisionRefused,
    ExtensionApproved,
    GrantApplied,
    Message,
    RefusalReason,
    RequestApproved,
    RequestExpired,
    RequestRejected,
)
from shared.contracts.subjects import Bucket, Subject
from shared.publishing import EventPublisher
from shared.runtime import Service
from tests.approvals.factories import (
    OWN_DEVICE_ID,
    approvals_settings,
    decision,
    device,
    extend,
    person,
    submitted,
)
from tests.conftest import settings_for


class Outbox:
    """Reads what approvals published, from the start of the ACCESS stream."""

    def __init__(self, js: JetStreamContext) -> None:
        self._js = js

    async def events(self, subject: Subject, *, count: int, timeout: float = 10.0) -> list[Any]:
        """Wait until at least `count` events are on `subject`, and return all of them."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        found: list[Message] = []
        while True:
            found = await self._all(subject)
            if len(found) >= count or loop.time() > deadline:
                return found
            await asyncio.sleep(0.1)

    async def _all(self, subject: Subject) -> list[Message]:
        sub = await self._js.pull_subscribe(
            subject.value,
            stream="ACCESS",
            config=ConsumerConfig(deliver_policy=DeliverPolicy.ALL),
        )
        found: list[Message] = []
        try:
            while True:
                try:
                    msgs = await sub.fetch(100, timeout=0.2)
                except TimeoutError:  # nats raises its own or asyncio's: both subclass it
                    return found
                for msg in msgs:
                    found.append(decode(msg.subject, msg.headers, msg.data).event)
                    await msg.ack()
        finally:
            await sub.unsubscribe()


async def _as_user(server: EmbeddedNats, user: str) -> Client:
    return await connect(settings_for(server, user), name=f"test-{user}")


@pytest.fixture
async def intake(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> AsyncIterator[EventPublisher]:
    """Publishes commands as the intake user would."""
    nc = await _as_user(nats_server, "intake")
    try:
        yield EventPublisher(nc.jetstream(), source="accessbot/intake")
    finally:
        await nc.drain()


@pytest.fixture
async def grants_js(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> AsyncIterator[JetStreamContext]:
    """JetStream as the grants user (owner of KV `devices`), with dave's device in it."""
    nc = await _as_user(nats_server, "grants")
    try:
        js = nc.jetstream()
        kv = await js.key_value(Bucket.DEVICES.value)
        await kv.put(OWN_DEVICE_ID, device().model_dump_json().encode())
        yield js
    finally:
        await nc.drain()


@pytest.fixture
async def approvals(
    nats_server: EmbeddedNats, grants_js: JetStreamContext
) -> AsyncIterator[Service]:
    """One approvals process, built and started like in production."""
    service = build(approvals_settings(nats_server))
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


@pytest.fixture
def outbox(admin_js: JetStreamContext) -> Outbox:
    return Outbox(admin_js)


async def _record(admin_js: JetStreamContext, request_id: str) -> RequestRecord:
    kv = await admin_js.key_value(Bucket.REQUESTS.value)
    entry = await kv.get(request_id)
    assert entry.value is not None
    return RequestRecord.model_validate_json(entry.value)


async def _drained(admin_js: JetStreamContext, durable: str, timeout: float = 10.0) -> None:
    """Wait until a consumer has nothing pending or unacknowledged."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        info = await admin_js.consumer_info("ACCESS", durable)
        if info.num_pending == 0 and info.num_ack_pending == 0:
            return
        assert loop.time() < deadline, f"{durable} still busy: {info}"
        await asyncio.sleep(0.1)


async def test_submission_asks_the_approvers_with_the_device_from_kv(
    approvals: Service, intake: EventPublisher, outbox: Outbox, admin_js: JetStreamContext
) -> None:
    sub = submitted(approver_email="bob@example.com")
    await intake.publish(sub)

    [asked] = await outbox.events(Subject.APPROVAL_REQUESTED, count=1)
    assert isinstance(asked, ApprovalRequested)
    assert asked.request_id == sub.request_id
    assert [p.email for p in asked.approvers] == ["bob@example.com"]
    assert asked.device == device()
    record = await _record(admin_js, sub.request_id)
    assert record.status is RequestStatus.PENDING
    assert all(entry.published for entry in record.outbox)


async def test_invalid_submission_is_rejected_with_every_problem(
    approvals: Service, intake: EventPublisher, outbox: Outbox
) -> None:
    sub = submitted(device_id="nNOSUCHDEVICE", duration_seconds=9 * 3600)
    await intake.publish(sub)

    [rejected] = await outbox.events(Subject.REQUEST_REJECTED, count=1)
    assert isinstance(rejected, RequestRejected)
    assert {p.field for p in rejected.problems} == {"device", "duration"}
    assert await outbox.events(Subject.APPROVAL_REQUESTED, count=0, timeout=0) == []


async def test_redelivered_submission_creates_one_request(
    approvals: Service, intake: EventPublisher, outbox: Outbox, admin_js: JetStreamContext
) -> None:
    sub = submitted()
    await intake.publish(sub)
    await intake.publish(sub)  # a new event id: intake retried, JetStream cannot dedupe it
    await _drained(admin_js, "approvals_submitted")

    asked = await outbox.events(Subject.APPROVAL_REQUESTED, count=2, timeout=1.0)
    assert len(asked) == 1
    record = await _record(admin_js, sub.request_id)
    assert len(record.applied) == 1
    assert len(record.outbox) == 1


async def test_two_processes_reach_one_outcome_from_concurrent_decisions(
    nats_server: EmbeddedNats,
    grants_js: JetStreamContext,
    intake: EventPublisher,
    outbox: Outbox,
    admin_js: JetStreamContext,
) -> None:
    first = build(approvals_settings(nats_server))
    second = build(approvals_settings(nats_server))
    await first.start()
    await second.start()
    try:
        subs = [submitted(profile_id="prod-db") for _ in range(4)]
        for sub in subs:
            await intake.publish(sub)
        await outbox.events(Subject.APPROVAL_REQUESTED, count=len(subs))
        # Every approver clicks twice on every request, all at once: two approvals decide.
        clicks = [
            decision(sub.request_id, email)
            for _ in range(2)
            for sub in subs
            for email in ("alice@example.com", "bob@example.com", "carol@example.com")
        ]
        await asyncio.gather(*(intake.publish(c) for c in clicks))
        await _drained(admin_js, "approvals_decision")
    finally:
        await first.stop()
        await second.stop()

    approved = await outbox.events(Subject.REQUEST_APPROVED, count=len(subs))
    assert sorted(e.request_id for e in approved) == sorted(s.request_id for s in subs)
    for event in approved:
        assert isinstance(event, RequestApproved)
        assert event.mode is ApprovalMode.QUORUM
        assert len({p.email for p in event.approvers}) == 2
    refused = await outbox.events(Subject.DECISION_REFUSED, count=len(clicks) - 2 * len(subs))
    assert len(refused) == len(clicks) - 2 * len(subs)
    for sub in subs:
        record = await _record(admin_js, sub.request_id)
        assert record.status is RequestStatus.APPROVED
        assert len(record.votes) == 2


async def test_pending_request_expires_once(
    approvals: Service, intake: EventPublisher, outbox: Outbox
) -> None:
    sub = submitted(profile_id="quick", duration_seconds=600)
    await intake.publish(sub)

    [expired] = await outbox.events(Subject.REQUEST_EXPIRED, count=1, timeout=10.0)
    assert isinstance(expired, RequestExpired)
    assert expired.request_id == sub.request_id
    late = decision(sub.request_id, "alice@example.com", Decision.APPROVE)
    await intake.publish(late)
    [refused] = await outbox.events(Subject.DECISION_REFUSED, count=1)
    assert isinstance(refused, DecisionRefused)
    assert refused.code is RefusalReason.NOT_PENDING
    assert len(await outbox.events(Subject.REQUEST_EXPIRED, count=2, timeout=1.5)) == 1
    assert await outbox.events(Subject.REQUEST_APPROVED, count=0, timeout=0) == []


async def _until_active(admin_js: JetStreamContext, request_id: str, timeout: float = 10.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while (record := await _record(admin_js, request_id)).grant is None:
        assert loop.time() < deadline, "grant.applied was not tracked"
        await asyncio.sleep(0.1)
    assert record.grant is not None
    assert record.grant.status is GrantStatus.ACTIVE


async def test_an_applied_grant_can_be_extended_through_approvers(
    approvals: Service,
    intake: EventPublisher,
    grants_js: JetStreamContext,
    outbox: Outbox,
    admin_js: JetStreamContext,
) -> None:
    sub = submitted(approver_email="alice@example.com")
    await intake.publish(sub)
    await outbox.events(Subject.APPROVAL_REQUESTED, count=1)  # Slack shows buttons only now
    await intake.publish(decision(sub.request_id, "alice@example.com"))
    [approved] = await outbox.events(Subject.REQUEST_APPROVED, count=1)
    assert isinstance(approved, RequestApproved)
    now = datetime.now(UTC)
    grants = EventPublisher(grants_js, source="accessbot/grants")
    await grants.publish(
        GrantApplied(
            request_id=sub.request_id,
            requester=sub.requester,
            profile_id=sub.profile_id,
            device_id=sub.device_id,
            attribute=approved.attribute,
            value=approved.value,
            expires_at=now + timedelta(seconds=sub.duration_seconds),
            applied_at=now,
        )
    )
    await _until_active(admin_js, sub.request_id)

    more = extend(sub.request_id, 3600)
    await intake.publish(more)
    asked = await outbox.events(Subject.APPROVAL_REQUESTED, count=2)
    [for_extension] = [e for e in asked if e.extension_id == more.extension_id]
    assert [p.email for p in for_extension.approvers] == ["alice@example.com"]
    await intake.publish(
        decision(sub.request_id, "alice@example.com", extension_id=more.extension_id)
    )
    [extended] = await outbox.events(Subject.EXTENSION_APPROVED, count=1)
    assert isinstance(extended, ExtensionApproved)
    assert extended.additional_seconds == 3600
    assert extended.approvers == [person("alice@example.com")]


async def _nudge_counts(outbox: Outbox, request_id: str) -> tuple[int, int, int]:
    """Reminders, escalations and expiries published about one request."""
    found = []
    for subject in (Subject.APPROVAL_REMINDED, Subject.APPROVAL_ESCALATED, Subject.REQUEST_EXPIRED):
        events = await outbox.events(subject, count=0, timeout=0)
        found.append(len([e for e in events if e.request_id == request_id]))
    return found[0], found[1], found[2]


async def test_two_replicas_remind_and_escalate_once_on_real_schedules(
    nats_server: EmbeddedNats, grants_js: JetStreamContext, intake: EventPublisher, outbox: Outbox
) -> None:
    # nudged-fast: one reminder at 1 s, escalation at 2 s, expiry at 6 s (message schedules).
    replicas = [build(approvals_settings(nats_server)) for _ in range(2)]
    for replica in replicas:
        await replica.start()
    try:
        sub = submitted(profile_id="nudged-fast", duration_seconds=600)
        await intake.publish(sub)
        [expired] = await outbox.events(Subject.REQUEST_EXPIRED, count=1, timeout=20.0)
        assert expired.request_id == sub.request_id
        [reminded] = await outbox.events(Subject.APPROVAL_REMINDED, count=1)
        assert [p.email for p in reminded.approvers] == ["alice@example.com"]
        [escalated] = await outbox.events(Subject.APPROVAL_ESCALATED, count=1)
        assert [p.email for p in escalated.approvers] == ["erin@example.com"]
        assert await _nudge_counts(outbox, sub.request_id) == (1, 1, 1)
    finally:
        for replica in replicas:
            await replica.stop()


async def test_what_fell_due_while_stopped_is_sent_once_after_a_restart(
    nats_server: EmbeddedNats,
    grants_js: JetStreamContext,
    intake: EventPublisher,
    outbox: Outbox,
    admin_js: JetStreamContext,
) -> None:
    first = build(approvals_settings(nats_server))
    await first.start()
    sub = submitted(profile_id="nudged-fast", duration_seconds=600)
    try:
        await intake.publish(sub)
        await outbox.events(Subject.APPROVAL_REQUESTED, count=1)
    finally:
        await first.stop()
    await asyncio.sleep(2.5)  # the reminder and the escalation fall due while it is down
    again = build(approvals_settings(nats_server))
    await again.start()
    try:
        await outbox.events(Subject.APPROVAL_ESCALATED, count=1, timeout=15.0)
        record = await _record(admin_js, sub.request_id)
        assert (record.reminders, record.escalated_at is not None) == (1, True)
        approve = decision(sub.request_id, "erin@example.com", Decision.APPROVE)
        await intake.publish(approve)
        [approved] = await outbox.events(Subject.REQUEST_APPROVED, count=1)
        assert isinstance(approved, RequestApproved)
        await asyncio.sleep(5.0)  # past the TTL: its stale timer changes nothing
    finally:
        await again.stop()
    assert await _nudge_counts(outbox, sub.request_id) == (1, 1, 0)
