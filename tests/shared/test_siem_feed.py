"""deploy/README's SIEM recipes, as written, with nats-py's defaults (no inbox prefix)
against a real nats-server: ephemeral, ordered and durable (`siem_*`) consumers on
`ACCESS`, filter `access.>`. The siem user lives in its own account with its own copy
of ACCESS, so nothing it creates reaches the services' consumers or inboxes."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import nats
import pytest
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.errors import Error as NatsError
from nats.js import JetStreamContext
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import APIError, NotFoundError

from accessbot.natsserver import EmbeddedNats
from shared.consumers import CONSUMERS
from shared.contracts.examples import EXAMPLES
from shared.contracts.subjects import ACCESS_STREAM, ACCESS_SUBJECTS, Subject
from shared.permissions import SIEM_USER
from shared.publishing import EventPublisher

SUBJECTS = [Subject.REQUEST_SUBMITTED, Subject.REQUEST_APPROVED, Subject.GRANT_APPLIED]


async def _siem(server: EmbeddedNats) -> Client:
    """Exactly what the README shows: URL, user, password; everything else default."""

    async def quiet(_: Exception) -> None:  # the refusals tried below are expected
        return None

    return await nats.connect(
        server.url,
        user=SIEM_USER,
        password=server.passwords[SIEM_USER],
        error_cb=quiet,
        allow_reconnect=False,
    )


@pytest.fixture
async def siem(nats_server: EmbeddedNats, admin_js: JetStreamContext) -> AsyncIterator[Client]:
    publisher = EventPublisher(admin_js, source="test")
    for subject in SUBJECTS:
        await publisher.publish(EXAMPLES[subject])
    nc = await _siem(nats_server)
    try:
        yield nc
    finally:
        await nc.close()


def _expected(subjects: list[Subject]) -> list[str]:
    """The `ce-type` header of each event."""
    return [f"io.accessbot.{s.value}" for s in subjects]


async def test_the_default_inbox_prefix_works(siem: Client) -> None:
    info = await siem.jetstream().stream_info(ACCESS_STREAM)
    assert info.state.messages == len(SUBJECTS)


async def test_an_ephemeral_consumer_reads_every_event_with_its_ce_headers(siem: Client) -> None:
    sub = await siem.jetstream().pull_subscribe(ACCESS_SUBJECTS, stream=ACCESS_STREAM)
    msgs = await sub.fetch(len(SUBJECTS), timeout=5)
    assert [m.headers and m.headers["ce-type"] for m in msgs] == _expected(SUBJECTS)
    assert all(m.headers and m.headers["ce-id"] for m in msgs)


async def test_an_ordered_consumer_reads_history_then_new_events(
    siem: Client, admin_js: JetStreamContext
) -> None:
    sub = await siem.jetstream().subscribe(
        ACCESS_SUBJECTS, ordered_consumer=True, deliver_policy=DeliverPolicy.ALL
    )
    seen = [(await sub.next_msg(timeout=5)).headers for _ in SUBJECTS]
    await EventPublisher(admin_js, source="test").publish(EXAMPLES[Subject.GRANT_EXPIRED])
    live = await sub.next_msg(timeout=5)
    assert [h and h["ce-type"] for h in seen] == _expected(SUBJECTS)
    assert live.headers
    assert live.headers["ce-type"] == _expected([Subject.GRANT_EXPIRED])[0]


async def test_a_durable_of_the_siems_own_resumes_after_a_reconnect(
    nats_server: EmbeddedNats, siem: Client, admin_js: JetStreamContext
) -> None:
    js = siem.jetstream()
    sub = await js.pull_subscribe(ACCESS_SUBJECTS, durable="siem_feed", stream=ACCESS_STREAM)
    first = await sub.fetch(2, timeout=5)
    for msg in first:
        await msg.ack()
    await siem.close()
    await EventPublisher(admin_js, source="test").publish(EXAMPLES[Subject.GRANT_EXPIRED])
    again = await _siem(nats_server)
    try:
        resumed = await again.jetstream().pull_subscribe(
            ACCESS_SUBJECTS, durable="siem_feed", stream=ACCESS_STREAM
        )
        rest = await resumed.fetch(10, timeout=2)
        assert [m.headers and m.headers["ce-type"] for m in rest] == _expected(
            [SUBJECTS[2], Subject.GRANT_EXPIRED]
        )
    finally:
        await again.close()


async def test_the_nats_cli_sub_shape_works(siem: Client) -> None:
    """`nats sub --stream ACCESS --all 'access.>'` creates an ordered push consumer with
    flow control and idle heartbeats on an `_INBOX.` deliver subject; the same here."""
    inbox = siem.new_inbox()
    assert inbox.startswith("_INBOX.")
    got: list[str] = []
    done = asyncio.Event()

    async def on_msg(msg: Msg) -> None:
        if msg.headers and "ce-type" in msg.headers:  # not a heartbeat or flow control
            got.append(msg.headers["ce-type"])
        if msg.reply and msg.headers and msg.headers.get("Status") == "100":
            await msg.respond(b"")  # flow control, as the CLI answers it
        if len(got) == len(SUBJECTS):
            done.set()

    await siem.subscribe(inbox, cb=on_msg)
    config = ConsumerConfig(
        deliver_subject=inbox,
        deliver_policy=DeliverPolicy.ALL,
        ack_policy=AckPolicy.NONE,
        filter_subject=ACCESS_SUBJECTS,
        flow_control=True,
        idle_heartbeat=5.0,
        mem_storage=True,
        num_replicas=1,
        inactive_threshold=60.0,
    )
    await siem.jetstream().add_consumer(ACCESS_STREAM, config)
    await asyncio.wait_for(done.wait(), timeout=5)
    assert got == _expected(SUBJECTS)


async def test_the_services_consumers_are_out_of_the_siems_reach(
    siem: Client, admin_js: JetStreamContext
) -> None:
    """The services' durables exist in ACCESSBOT; from SIEM they cannot be seen, read,
    redefined or deleted (the same names only ever name the siem user's own)."""
    js = siem.jetstream()
    for spec in CONSUMERS:
        if spec.stream == ACCESS_STREAM:
            await admin_js.add_consumer(
                ACCESS_STREAM,
                ConsumerConfig(
                    durable_name=spec.durable,
                    filter_subject=spec.filter_subject,
                    ack_policy=AckPolicy.EXPLICIT,
                ),
            )
    theirs = [s.durable for s in CONSUMERS if s.stream == ACCESS_STREAM]
    assert theirs
    assert await js.consumers_info(ACCESS_STREAM) == []
    for durable in theirs:
        with pytest.raises(NotFoundError):
            await js.consumer_info(ACCESS_STREAM, durable)
        with pytest.raises(NotFoundError):
            await js.delete_consumer(ACCESS_STREAM, durable)
    after = {str(c.name) for c in await admin_js.consumers_info(ACCESS_STREAM)}
    assert set(theirs) <= after
    for durable in theirs:
        info = await admin_js.consumer_info(ACCESS_STREAM, durable)
        assert info.delivered is not None
        assert info.delivered.consumer_seq == 0  # nothing was taken from them


async def test_the_siem_can_neither_write_nor_remove_its_copy(
    siem: Client, admin_js: JetStreamContext
) -> None:
    js = siem.jetstream()
    with pytest.raises((NatsError, APIError)):
        await js.publish(Subject.REQUEST_APPROVED.value, b"{}", timeout=1)  # a forgery
    for attempt in (js.purge_stream, js.delete_stream):
        with pytest.raises((NatsError, APIError)):
            await attempt(ACCESS_STREAM)
    await siem.flush()
    assert (await js.stream_info(ACCESS_STREAM)).state.messages == len(SUBJECTS)
    assert (await admin_js.stream_info(ACCESS_STREAM)).state.messages == len(SUBJECTS)


async def test_reminders_escalations_and_counted_approvals_reach_the_siem_with_their_types(
    siem: Client, admin_js: JetStreamContext
) -> None:
    sub = await siem.jetstream().subscribe(
        ACCESS_SUBJECTS, ordered_consumer=True, deliver_policy=DeliverPolicy.NEW
    )
    news = [Subject.APPROVAL_REMINDED, Subject.APPROVAL_ESCALATED, Subject.APPROVAL_COUNTED]
    publisher = EventPublisher(admin_js, source="accessbot/approvals")
    for subject in news:
        await publisher.publish(EXAMPLES[subject])
    got = [await sub.next_msg(timeout=5) for _ in news]
    assert [m.headers and m.headers["ce-type"] for m in got] == _expected(news)
    assert [m.subject for m in got] == [s.value for s in news]
