"""A post waiting out Slack's rate limit does not hold up messages about other requests."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.slack import SlackEmulator
from shared.ids import new_id
from tests.notifier import notifier_factories as f
from tests.notifier.notifier_harness import (
    BOT_TOKEN,
    Outbox,
    running,
    wait_idle,
    workspace,
    write_profiles,
)

RETRY_AFTER = 4


async def test_a_rate_limited_post_does_not_hold_up_another_requests_messages(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    held_up, other = new_id(), new_id()
    async with (
        SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu,
        running(nats_server, write_profiles(tmp_path), emu),
    ):
        emu.rate_limit_next("chat.postMessage", count=1, retry_after=RETRY_AFTER)
        outbox = Outbox(admin_js)
        await outbox.publish(f.submitted(held_up), wait=False)
        for _ in range(200):
            if any(c.status == 429 for c in emu.calls("chat.postMessage")):
                break
            await asyncio.sleep(0.02)
        published_at = time.time()
        await outbox.publish(f.submitted(other), wait=False)
        await wait_idle(admin_js)

    posts = emu.calls("chat.postMessage")
    [limited] = [c for c in posts if c.status == 429]
    served = [c for c in posts if c.status == 200]
    during_the_wait = [c for c in served if c.time < limited.time + RETRY_AFTER]
    assert during_the_wait, "the other request's messages went out while the first waited"
    assert during_the_wait[0].time - published_at < 2.0
    assert len(served) == 2 * len(during_the_wait), "then the held-up request's, as many"
