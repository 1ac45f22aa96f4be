"""A Slack client keeps one pooled HTTP session for the service's lifetime; JSON calls
through it behave as the client's own (retries, metrics, errors, debug lines)."""

from __future__ import annotations

import json
import logging

import aiohttp
import pytest
from prometheus_client import REGISTRY
from pydantic import SecretStr
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from slack_sdk.web.async_slack_response import AsyncSlackResponse

from emulators.slack import Channel, SlackEmulator, Workspace
from shared.slack_web import JsonCalls, PooledSlackSession, web_client


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


def client_for(emu: SlackEmulator, **budgets: int) -> AsyncWebClient:
    retries = {"connection_retries": 0, "rate_limit_retries": 2, "server_error_retries": 0}
    return web_client(SecretStr("xoxb-t"), emu.api_url, timeout=7, **(retries | budgets))


def post_body(text: str) -> str:
    block = {"type": "section", "text": {"type": "mrkdwn", "text": text}}
    return json.dumps({"channel": "C0GENERAL", "text": text, "blocks": [block]})


def metric(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


async def test_the_pooled_session_keeps_the_clients_timeout() -> None:
    """slack_sdk applies `timeout` only to the sessions it opens itself."""
    async with SlackEmulator(bot_token="xoxb-t") as emu:
        client = client_for(emu)
        pooled = PooledSlackSession(client)
        await pooled.open()
        assert client.session is not None
        assert client.session.timeout.total == 7
        await pooled.close()


async def test_a_json_call_posts_through_the_pooled_session_as_the_client_would() -> None:
    async with SlackEmulator(workspace=_workspace(), bot_token="xoxb-t") as emu:
        client = client_for(emu)
        pooled = PooledSlackSession(client)
        await pooled.open()
        session = client.session
        answer = await JsonCalls(client).call("chat.postMessage", post_body("hello *there*"))
        assert client.session is session
        await pooled.close()
        assert isinstance(answer, AsyncSlackResponse)
        assert answer["ok"] is True
        [posted] = emu.messages("C0GENERAL")
        assert (answer["ts"], posted.text) == (posted.ts, "hello *there*")
        assert posted.blocks[0]["text"]["text"] == "hello *there*"


async def test_a_json_call_without_a_pooled_session_opens_one_for_itself() -> None:
    async with SlackEmulator(workspace=_workspace(), bot_token="xoxb-t") as emu:
        client = client_for(emu)
        answer = await JsonCalls(client).call("chat.postMessage", post_body("alone"))
        assert answer["ok"] is True
        assert client.session is None
        assert [m.text for m in emu.messages("C0GENERAL")] == ["alone"]


async def test_a_json_call_raises_the_clients_error_type_with_slacks_answer() -> None:
    async with SlackEmulator(workspace=_workspace(), bot_token="xoxb-t") as emu:
        client = client_for(emu)
        body = json.dumps({"channel": "C0NOWHERE", "text": "lost"})
        with pytest.raises(SlackApiError) as ours:
            await JsonCalls(client).call("chat.postMessage", body)
        with pytest.raises(SlackApiError) as theirs:
            await client.api_call("chat.postMessage", json=json.loads(body))
    assert ours.value.response["error"] == theirs.value.response["error"] == "channel_not_found"
    assert ours.value.response.status_code == theirs.value.response.status_code
    assert "xoxb-t" not in repr(ours.value.response.req_args)


async def test_a_json_call_waits_out_429s_with_the_clients_handler_and_counts_them() -> None:
    method = "chat.postMessage"
    limited = metric("accessbot_slack_api_calls_total", method=method, status="429")
    retries = metric("accessbot_slack_api_retries_total", method=method, reason="rate_limited")
    async with SlackEmulator(workspace=_workspace(), bot_token="xoxb-t") as emu:
        client = client_for(emu, rate_limit_retries=2)
        emu.rate_limit_next(method, count=2, retry_after=0)
        answer = await JsonCalls(client).call(method, post_body("after two 429s"))
        assert answer["ok"] is True
        emu.rate_limit_next(method, count=3, retry_after=0)
        with pytest.raises(SlackApiError) as gave_up:  # the budget (2 retries) is spent
            await JsonCalls(client).call(method, post_body("never"))
        assert gave_up.value.response.status_code == 429
        assert [m.text for m in emu.messages("C0GENERAL")] == ["after two 429s"]
    assert metric("accessbot_slack_api_calls_total", method=method, status="429") - limited == 5
    after = metric("accessbot_slack_api_retries_total", method=method, reason="rate_limited")
    assert after - retries == 4


async def test_a_json_call_logs_slack_sdks_debug_lines_without_the_token(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with SlackEmulator(workspace=_workspace(), bot_token="xoxb-t") as emu:
        client = client_for(emu)
        # The client's own logger: a service's logging set-up may have given it a level.
        caplog.set_level(logging.DEBUG, logger=client.logger.name)
        await JsonCalls(client).call("chat.postMessage", post_body("logged"))
    assert "chat.postMessage" in caplog.text
    assert "Received the following response - status: 200" in caplog.text
    assert "xoxb-t" not in caplog.text


def _workspace() -> Workspace:
    ws = Workspace()
    ws.add_channel(Channel(id="C0GENERAL", name="general"))
    return ws
