"""The notifier's Slack gateway against the emulator, which is as strict as Slack."""

from __future__ import annotations

import hashlib
import json

import pytest
from slack_sdk.models.blocks import SectionBlock
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackEmulator
from services.notifier.adapters.slack_gateway import SlackGateway
from services.notifier.domain.slack_message import SlackMessage
from services.notifier.ports import DeliveryError
from tests.notifier.notifier_harness import BOT_TOKEN, workspace

DAVE_ID = "U0DAVE"


def message(text: str) -> SlackMessage:
    return SlackMessage(text=text, blocks=(SectionBlock(text=text),))


async def test_update_uses_the_channel_id_chat_post_message_answered() -> None:
    """Slack posts to a user id (into the DM) but updates only by the D... id it answered."""
    async with SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu:
        gateway = SlackGateway(AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url))
        channel, ts = await gateway.post(DAVE_ID, message("Waiting for approval"), None)
        assert channel == emu.dm_channel(DAVE_ID) != DAVE_ID
        await gateway.update(channel, ts, message("Access granted"))
        with pytest.raises(DeliveryError) as refused:
            await gateway.update(DAVE_ID, ts, message("never shown"))
        assert refused.value.error == "channel_not_found"
    [dm] = emu.dms(DAVE_ID)
    assert dm.text == "Access granted"


def test_the_digest_is_still_the_sorted_json_of_text_and_blocks() -> None:
    """Digests stored before the blocks' JSON was shared with the call stay valid (no
    message is updated again after an upgrade); the call sends the same blocks."""
    built = SlackMessage(
        text="Dave <asks> & \u00e9 \U0001f512",
        blocks=(SectionBlock(text="*Dave* asks \u00e9", block_id="b1"), SectionBlock(text="x")),
    )
    raw = json.dumps(built.as_json(), sort_keys=True, separators=(",", ":"))
    assert built.digest() == hashlib.sha256(raw.encode()).hexdigest()[:16]
    assert json.loads(built.blocks_text()) == built.blocks_json()


async def test_a_post_sends_the_blocks_text_and_thread_as_given() -> None:
    async with SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu:
        gateway = SlackGateway(AsyncWebClient(token=BOT_TOKEN, base_url=emu.api_url))
        parent = message('Parent "quoted" \u00e9')
        channel, ts = await gateway.post(DAVE_ID, parent, None)
        await gateway.post(channel, message("reply"), ts)
    [call, reply] = emu.calls("chat.postMessage")
    assert call.params["blocks"] == parent.blocks_json()
    assert call.params["text"] == 'Parent "quoted" \u00e9'
    assert (call.params["unfurl_links"], call.params["unfurl_media"]) == (False, False)
    assert "thread_ts" not in call.params
    assert reply.params["thread_ts"] == ts
    assert [m.thread_ts for m in emu.dms(DAVE_ID)] == [None, ts]
