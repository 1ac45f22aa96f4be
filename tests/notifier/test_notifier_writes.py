"""KV writes per event: one per message posted (the applied mark riding with the last),
and a crash anywhere in a fan-out still posts nothing twice.

Real nats-server (the `slack_messages` bucket) and the Slack emulator.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.slack import SlackEmulator
from services.notifier.adapters.slack_gateway import SlackGateway
from services.notifier.adapters.store import RecordStore
from services.notifier.bootstrap import slack_client
from services.notifier.domain.home import HomeView
from services.notifier.domain.request_view import Phase
from services.notifier.domain.slack_message import SlackMessage
from services.notifier.handlers import Notifier
from services.notifier.ports import Slack
from shared.contracts.cloudevents import CloudEventMeta, Envelope, ce_type
from shared.contracts.events import Message, Person
from shared.contracts.subjects import Bucket
from shared.ids import new_id
from shared.profiles import load_profiles
from shared.slack_web import PooledSlackSession
from tests.notifier import notifier_factories as f
from tests.notifier.notifier_harness import (
    BOT_TOKEN,
    USER_IDS,
    notifier_settings,
    workspace,
    write_profiles,
)


class Crash(BaseException):
    """The process dies: nothing after it runs (no handler catches a BaseException)."""


class CrashingSlack:
    """Slack as the gateway does it, until the process dies just before the k-th post or
    update (counted over the whole run)."""

    def __init__(self, inner: Slack, crash_before: int) -> None:
        self._inner = inner
        self._left = crash_before

    def _count(self) -> None:
        self._left -= 1
        if self._left == 0:
            raise Crash

    async def dm_channel(self, who: Person) -> str:
        return await self._inner.dm_channel(who)

    async def post(
        self, channel: str, message: SlackMessage, thread_ts: str | None
    ) -> tuple[str, str]:
        self._count()
        return await self._inner.post(channel, message, thread_ts)

    async def update(self, channel: str, ts: str, message: SlackMessage) -> None:
        self._count()
        await self._inner.update(channel, ts, message)

    async def publish_home(self, who: Person, home: HomeView) -> None:
        await self._inner.publish_home(who, home)


def flow(request_id: str) -> list[Envelope[Message]]:
    events: list[Message] = [
        f.submitted(request_id),
        f.approval_requested(request_id),
        f.approved(request_id),
        f.applied(request_id),
    ]
    return [
        Envelope(
            meta=CloudEventMeta(
                id=new_id(),
                source="accessbot/test",
                type=ce_type(event.SUBJECT),
                time=datetime.now(UTC),
                subject=request_id,
            ),
            event=event,
        )
        for event in events
    ]


@asynccontextmanager
async def gateway(emu: SlackEmulator, nats: EmbeddedNats, tmp: Path) -> AsyncIterator[Slack]:
    web = slack_client(notifier_settings(nats, write_profiles(tmp), emu))
    session = PooledSlackSession(web)
    await session.open()
    try:
        yield SlackGateway(web)
    finally:
        await session.close()


async def last_seq(js: JetStreamContext) -> int:
    """The bucket's stream sequence: one more per write."""
    info = await js.stream_info(f"KV_{Bucket.SLACK_MESSAGES.value}")
    return info.state.last_seq


def notifier(store: RecordStore, slack: Slack, tmp: Path) -> Notifier:
    return Notifier(
        store=store, slack=slack, profiles=load_profiles(write_profiles(tmp)), admin_url=f.ADMIN_URL
    )


def what_people_see(emu: SlackEmulator, request_id: str) -> dict[str, list[Any]]:
    """Each conversation's messages as they show now (thread replies by parent index)."""
    seen: dict[str, list[Any]] = {}
    for name, conversation in [
        ("audit", f.AUDIT_CHANNEL),
        *((person, emu.dm_channel(user)) for person, user in USER_IDS.items()),
    ]:
        messages = emu.messages(conversation)
        index = {m.ts: i for i, m in enumerate(messages)}
        shown = [
            m.updates[-1] if m.updates else {"text": m.text, "blocks": m.blocks} for m in messages
        ]
        seen[name] = [
            (
                index.get(m.thread_ts) if m.thread_ts else None,
                json.dumps([now["text"], now["blocks"]]).replace(request_id, "REQUEST"),
            )
            for m, now in zip(messages, shown, strict=True)
        ]
    return seen


async def test_each_event_writes_once_per_post_and_marks_itself_applied(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    request_id = new_id()
    store = await RecordStore.open(admin_js)
    async with (
        SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu,
        gateway(emu, nats_server, tmp_path) as slack,
    ):
        handler = notifier(store, slack, tmp_path)
        writes_seen = []
        for envelope in flow(request_id):
            posts = len(emu.calls("chat.postMessage"))
            before = await last_seq(admin_js)
            await handler.handle(envelope)
            writes = await last_seq(admin_js) - before
            posts = len(emu.calls("chat.postMessage")) - posts
            writes_seen.append((writes, posts))
            assert (await store.load(request_id)).record.has_applied(envelope.meta.id)
        # submitted: DM + audit status + step; approval.requested: two approver DMs + step;
        # approved and applied: updates, then a step each (the last write carries them)
        assert writes_seen == [(3, 3), (3, 3), (1, 1), (1, 1)]
        assert len(emu.calls("chat.update")) == 8
    # the folded view rode along with those writes
    assert (await store.load(request_id)).record.view.phase is Phase.ACTIVE


async def test_a_crash_anywhere_in_a_fan_out_posts_nothing_twice(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    """The process dies just before the k-th Slack post or update, for every k of a whole
    flow; the event is then redelivered to a new process. What people see in the end is
    what they see without a crash: every message once, showing the same."""
    store = await RecordStore.open(admin_js)
    reference_id = new_id()
    async with (
        SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu,
        gateway(emu, nats_server, tmp_path) as slack,
    ):
        handler = notifier(store, slack, tmp_path)
        for envelope in flow(reference_id):
            await handler.handle(envelope)
        expected = what_people_see(emu, reference_id)
        calls = len(emu.calls("chat.postMessage")) + len(emu.calls("chat.update"))
    assert calls == 16

    for crash_before in range(1, calls + 1):
        request_id = new_id()
        async with (
            SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu,
            gateway(emu, nats_server, tmp_path) as slack,
        ):
            crashing = notifier(store, CrashingSlack(slack, crash_before), tmp_path)
            restarted = notifier(store, slack, tmp_path)
            handler = crashing
            for envelope in flow(request_id):
                try:
                    await handler.handle(envelope)
                except Crash:
                    handler = restarted
                    await handler.handle(envelope)  # redelivered to the new process
            assert handler is restarted, crash_before
            assert what_people_see(emu, request_id) == expected, crash_before
