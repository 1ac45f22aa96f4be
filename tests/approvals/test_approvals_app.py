"""The handlers on real KV and JetStream: what only the server proves (its duplicate window).

These drive `Approvals` directly (as the approvals NATS user). Outbox recovery, CAS
re-application and idempotency run on in-memory ports in test_approvals_handlers.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypeVar

import pytest
from nats.aio.client import Client
from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from services.approvals import SOURCE
from services.approvals.adapters.devices import DeviceDirectory
from services.approvals.adapters.store import budget_store, claim_store, request_store
from services.approvals.handlers import Approvals
from services.approvals.ports import BudgetStore, ClaimStore, Ports, RequestStore
from shared.connection import connect
from shared.contracts.cloudevents import decode
from shared.contracts.events import (
    ApprovalRequested,
    AutoApprovalHeld,
    Message,
    RequestRejected,
    RuleWording,
)
from shared.contracts.subjects import Bucket, Subject
from shared.device_claims import claim_key
from shared.profiles import ProfilesConfig
from shared.publishing import EventPublisher
from tests.approvals.factories import (
    DAVE_DEVICE_IDS,
    NOW,
    OWN_DEVICE_ID,
    approvals_settings,
    decision,
    device,
    profiles,
    submitted,
)
from tests.approvals.fakes import envelope

E = TypeVar("E", bound=Message)


@dataclass
class Harness:
    """Builds `Approvals` instances sharing one NATS connection, with fakes where asked."""

    js: JetStreamContext
    store: RequestStore
    devices: DeviceDirectory
    budgets: BudgetStore
    claims: ClaimStore
    scheduled: list[tuple[str, datetime]] = field(default_factory=list)

    async def schedule(self, request_id: str, due_at: datetime, *, generation: int) -> None:
        self.scheduled.append((request_id, due_at))

    def app(
        self,
        *,
        publisher: EventPublisher | None = None,
        store: RequestStore | None = None,
        config: ProfilesConfig | None = None,
    ) -> Approvals:
        return Approvals(
            config or profiles(),
            Ports(
                store=store or self.store,
                devices=self.devices,
                publisher=publisher or EventPublisher(self.js, source=SOURCE),
                schedule_expiry=self.schedule,
                budgets=self.budgets,
                claims=self.claims,
            ),
            clock=lambda: NOW,
        )


@pytest.fixture
async def approvals_nc(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> AsyncIterator[Client]:
    nc = await connect(approvals_settings(nats_server), name="test-approvals")
    try:
        yield nc
    finally:
        await nc.drain()


@pytest.fixture
async def harness(approvals_nc: Client, admin_js: JetStreamContext) -> Harness:
    devices_kv = await admin_js.key_value(Bucket.DEVICES.value)
    for device_id in DAVE_DEVICE_IDS:
        await devices_kv.put(device_id, device(device_id).model_dump_json().encode())
    js = approvals_nc.jetstream()
    return Harness(
        js=js,
        store=request_store(await js.key_value(Bucket.REQUESTS.value)),
        devices=DeviceDirectory(await js.key_value(Bucket.DEVICES.value)),
        budgets=budget_store(await js.key_value(Bucket.AUTO_APPROVALS.value)),
        claims=claim_store(await js.key_value(Bucket.DEVICE_CLAIMS.value)),
    )


async def stream_events(admin_js: JetStreamContext, subject: Subject) -> list[tuple[str, Message]]:
    """(event id, event) of everything on `subject`, in order."""
    sub = await admin_js.pull_subscribe(subject.value, stream="ACCESS")
    found: list[tuple[str, Message]] = []
    try:
        while True:
            try:
                msgs = await sub.fetch(100, timeout=0.3)
            except TimeoutError:
                return found
            for msg in msgs:
                env = decode(msg.subject, msg.headers, msg.data)
                found.append((env.meta.id, env.event))
    finally:
        await sub.unsubscribe()


async def test_a_redelivered_refusal_keeps_its_event_id(
    harness: Harness, admin_js: JetStreamContext
) -> None:
    sub = envelope(submitted())
    app = harness.app()
    await app.on_submitted(sub)
    click = envelope(decision(sub.event.request_id, "mallory@example.com"))
    await app.on_decision(click)
    await app.on_decision(click)

    refusals = await stream_events(admin_js, Subject.DECISION_REFUSED)
    assert len(refusals) == 1  # the second publish had the same id and was dropped


async def test_two_replicas_never_spend_more_than_the_daily_budget(
    harness: Harness, admin_js: JetStreamContext
) -> None:
    """Six submissions at once for `guarded` (two auto-approvals a day), split over two
    replicas sharing KV `auto_approvals`: exactly two approved at once, four asked."""
    replicas = (harness.app(), harness.app())
    subs = [  # one device each: one live request per (profile, device)
        envelope(submitted(profile_id="guarded", duration_seconds=3600, device_id=d))
        for d in DAVE_DEVICE_IDS[:6]
    ]
    await asyncio.gather(
        *(replicas[i % 2].on_submitted(sub) for i, sub in enumerate(subs)),
        # The same submission redelivered to the other replica at the same time.
        replicas[1].on_submitted(subs[0]),
    )

    approved = await stream_events(admin_js, Subject.REQUEST_APPROVED)
    asked = await stream_events(admin_js, Subject.APPROVAL_REQUESTED)
    assert len(approved) == 2
    assert len(asked) == 4
    for _, event in asked:
        assert isinstance(event, ApprovalRequested)
        assert event.auto_approval is not None
        assert event.auto_approval.code is AutoApprovalHeld.OVER_DAILY_BUDGET
    [day] = await harness.budgets.all()
    assert sorted(day.record.request_ids) == sorted(e.request_id for _, e in approved)


async def test_two_replicas_open_one_request_per_device_and_profile(
    harness: Harness, admin_js: JetStreamContext
) -> None:
    """Four submissions for the same (profile, device) at once, split over two replicas
    sharing KV `device_claims`: exactly one is opened, three are rejected naming it."""
    replicas = (harness.app(), harness.app())
    subs = [envelope(submitted(profile_id="prod-db")) for _ in range(4)]
    await asyncio.gather(*(replicas[i % 2].on_submitted(sub) for i, sub in enumerate(subs)))

    [(_, asked)] = await stream_events(admin_js, Subject.APPROVAL_REQUESTED)
    rejected = await stream_events(admin_js, Subject.REQUEST_REJECTED)
    assert len(rejected) == 3
    for _, event in rejected:
        assert isinstance(event, RequestRejected)
        [problem] = event.problems
        assert problem.facts is not None
        assert problem.facts.wording is RuleWording.ALREADY_REQUESTED
        assert problem.facts.value == asked.request_id
    held = await harness.claims.load(claim_key("prod-db", OWN_DEVICE_ID))
    assert held is not None
    assert held.record.request_id == asked.request_id
