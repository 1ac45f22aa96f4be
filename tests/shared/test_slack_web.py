"""A Slack client keeps one pooled HTTP session for the service's lifetime."""

from __future__ import annotations

import aiohttp
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import SlackEmulator
from shared.slack_web import PooledSlackSession


def is_closed(session: aiohttp.ClientSession) -> bool:
    # A function call, so the type checker does not keep an earlier narrowing.
    return session.closed


async def test_one_session_serves_every_call_and_is_closed_at_stop() -> None:
    async with SlackEmulator(bot_token="xoxb-t") as emu:
        client = AsyncWebClient(token="xoxb-t", base_url=emu.api_url)
        pooled = PooledSlackSession(client)
        await pooled.open()
        session = client.session
        assert isinstance(session, aiohttp.ClientSession)
        for _ in range(3):
            assert (await client.auth_test())["ok"] is True
        assert client.session is session
        assert not is_closed(session)
        await pooled.close()
        assert is_closed(session)
        assert client.session is None


async def test_a_session_given_by_the_caller_is_left_alone() -> None:
    async with SlackEmulator(bot_token="xoxb-t") as emu, aiohttp.ClientSession() as own:
        client = AsyncWebClient(token="xoxb-t", base_url=emu.api_url, session=own)
        pooled = PooledSlackSession(client)
        await pooled.open()
        assert client.session is own
        await pooled.close()
        assert not is_closed(own)
        assert (await client.auth_test())["ok"] is True
