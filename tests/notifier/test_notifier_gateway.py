"""The notifier's Slack gateway against the emulator, which is as strict as Slack."""

from __future__ import annotations

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
