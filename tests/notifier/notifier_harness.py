"""A running notifier against a real nats-server and the Slack emulator, and ways to watch it."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.slack import Channel, SlackEmulator, User, Workspace
from services.notifier.bootstrap import build
from services.notifier.settings import NotifierSettings
from shared.consumers import consumers_of
from shared.contracts.events import Message
from shared.contracts.subjects import ACCESS_STREAM
from shared.permissions import PUBLISHES
from shared.publishing import EventPublisher
from shared.runtime import Service
from tests.conftest import settings_for
from tests.notifier import notifier_factories as f

BOT_TOKEN = "xoxb-notifier-test"
ARCHIVED_CHANNEL = "C0ARCHIVE1"
PRIVATE_CHANNEL = "C0PRIVATE1"  # the bot is not a member
MISSING_CHANNEL = "C0MISSING1"  # not in the workspace at all
BROKEN_PROFILE = "ops"
BREAK_GLASS_PROFILE = "break-glass"

PROFILES_YAML = f"""
admins: [secops@example.com]
profiles:
  - id: {f.PROFILE}
    description: Production databases (two approvers)
    attribute: {f.ATTRIBUTE}
    max_duration: 4h
    approvers: {{emails: [alice@example.com, bob@example.com]}}
    approvals_required: 2
    notify_channels: [{f.AUDIT_CHANNEL}]
  - id: {BROKEN_PROFILE}
    description: Ops
    attribute: custom:opsAccess
    approvers: {{emails: [alice@example.com, bob@example.com]}}
    approvals_required: 2
    notify_channels: [{ARCHIVED_CHANNEL}, {f.AUDIT_CHANNEL}, {PRIVATE_CHANNEL}, {MISSING_CHANNEL}]
  - id: {BREAK_GLASS_PROFILE}
    description: Break glass
    attribute: custom:breakGlass
    max_duration: 1h
    approvers: {{emails: [secops@example.com]}}
    self_approval: allowed
    break_glass: true
    notify_channels: [{f.AUDIT_CHANNEL}]
"""

USER_IDS = {"dave": "U0DAVE", "alice": "U0ALICE", "bob": "U0BOB", "mallory": "U0MALLORY"}


def workspace() -> Workspace:
    """The people and channels of the tests (Dave's Slack id travels in the events)."""
    ws = Workspace()
    for name, user_id in USER_IDS.items():
        ws.add_user(
            User(id=user_id, name=name, real_name=name.title(), email=f"{name}@example.com")
        )
    ws.add_channel(Channel(id=f.AUDIT_CHANNEL, name="access-audit"))
    ws.add_channel(Channel(id=ARCHIVED_CHANNEL, name="old-audit", is_archived=True))
    ws.add_channel(
        Channel(id=PRIVATE_CHANNEL, name="secret-audit", is_private=True, bot_is_member=False)
    )
    return ws


def notifier_settings(server: EmbeddedNats, profiles: Path, emu: SlackEmulator) -> NotifierSettings:
    base = settings_for(server, "notifier", profiles_path=profiles)
    return NotifierSettings.model_validate(
        {**dict(base), "slack_bot_token": BOT_TOKEN, "slack_api_url": emu.api_url}
    )


@asynccontextmanager
async def running(
    server: EmbeddedNats, profiles: Path, emu: SlackEmulator, **overrides: Any
) -> AsyncIterator[Service]:
    """The notifier, built by its own composition root, started and stopped."""
    service = build(notifier_settings(server, profiles, emu), **overrides)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()


class Outbox:
    """Publishes events as their real publishers would, and waits until the notifier acked."""

    def __init__(self, js: JetStreamContext) -> None:
        self._js = js
        self._publishers: dict[str, EventPublisher] = {}

    def _publisher(self, event: Message) -> EventPublisher:
        service = next(s for s, subjects in PUBLISHES.items() if event.SUBJECT in subjects)
        if service not in self._publishers:
            self._publishers[service] = EventPublisher(self._js, source=f"accessbot/{service}")
        return self._publishers[service]

    async def publish(self, event: Message, *, wait: bool = True) -> int:
        """Publish; by default wait until the notifier handled it (acked, not just received)."""
        ack = await self._publisher(event).publish(event)
        if wait:
            await wait_idle(self._js)
        return ack.seq


async def wait_idle(js: JetStreamContext, timeout: float = 20.0) -> None:
    """Wait until every notifier consumer has acked every message of its subject."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        busy = []
        for spec in consumers_of("notifier"):
            info = await js.consumer_info(ACCESS_STREAM, spec.durable)
            if info.num_pending or info.num_ack_pending:
                busy.append(spec.durable)
        if not busy:
            return
        if loop.time() > deadline:
            raise TimeoutError(f"notifier consumers still busy: {busy}")
        await asyncio.sleep(0.05)


def history(emu: SlackEmulator, channel: str) -> list[dict[str, Any]]:
    """Each message in a channel with every version it showed: posted, then each update."""
    posts = [
        c
        for c in emu.calls("chat.postMessage")
        if c.ok and c.params.get("channel") in (channel, _dm_user(emu, channel))
    ]
    messages = emu.messages(channel)
    assert len(posts) == len(messages), "every message was posted by chat.postMessage"
    out = []
    parents = {m.ts: index for index, m in enumerate(messages)}
    for call, message in zip(posts, messages, strict=True):
        versions = [_content(call.params)] + [_content(u) for u in message.updates]
        out.append(
            {
                "thread_of": parents.get(message.thread_ts) if message.thread_ts else None,
                "versions": versions,
            }
        )
    return out


def _dm_user(emu: SlackEmulator, channel: str) -> str | None:
    return next((u for u in USER_IDS.values() if emu.dm_channel(u) == channel), None)


def _content(data: dict[str, Any]) -> dict[str, Any]:
    return {"text": data.get("text"), "blocks": data.get("blocks")}


def write_profiles(directory: Path) -> Path:
    """profiles.yaml of the tests, in `directory`."""
    path = directory / "profiles.yaml"
    path.write_text(PROFILES_YAML, encoding="utf-8")
    return path
