"""`python -m emulators.slack` as a process, and the /_emulator/ JSON control API."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import sys
from pathlib import Path

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import Channel, SlackEmulator, User, Workspace
from emulators.slack.testing import SocketModeTestApp

REPO = Path(__file__).resolve().parents[2]
BOT = "xoxb-standalone"


@pytest.mark.e2e
async def test_module_entry_point_serves_the_web_api(tmp_path):
    workspace_file = tmp_path / "ws.json"
    workspace_file.write_text(
        json.dumps(
            {
                "users": [{"id": "U_ALICE", "name": "alice", "email": "alice@example.com"}],
                "channels": [{"id": "C06TH49GKHC", "name": "access-audit"}],
                "usergroups": [{"id": "S0614TZR7", "handle": "oncall", "users": ["U_ALICE"]}],
            }
        )
    )
    env = {**os.environ, "SLACK_EMULATOR_SIGNING_SECRET": "from-env"}
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "emulators.slack",
        "--port",
        "0",
        "--seed",
        "7",
        "--users",
        "3",
        "--workspace-file",
        str(workspace_file),
        "--bot-token",
        BOT,
        "--app-token",
        "xapp-standalone",
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        assert process.stdout is not None
        line = (await asyncio.wait_for(process.stdout.readline(), 20)).decode()
        assert "listening on http://127.0.0.1:" in line
        base_url = line.split("listening on ")[1].split()[0]
        web = AsyncWebClient(token=BOT, base_url=base_url + "/api/")
        assert (await web.auth_test())["ok"] is True
        assert (await web.usergroups_users_list(usergroup="S0614TZR7"))["users"] == ["U_ALICE"]
        async with aiohttp.ClientSession() as session:
            async with session.get(base_url + "/_emulator/workspace") as resp:
                users = (await resp.json())["users"]
            assert len(users) == 4
            async with session.post(
                base_url + "/_emulator/fail-next",
                json={"method": "auth.test", "error": "fatal_error"},
            ) as resp:
                assert resp.status == 200
            with pytest.raises(SlackApiError):
                await web.auth_test()
            async with session.get(base_url + "/_emulator/calls") as resp:
                calls = await resp.json()
        assert [c["method"] for c in calls][:2] == ["auth.test", "usergroups.users.list"]
        assert calls[-1]["error"] == "fatal_error"
        assert BOT not in json.dumps(calls)
    finally:
        process.send_signal(signal.SIGTERM)
        out, err = await asyncio.wait_for(process.communicate(), 20)
    assert process.returncode == 0, err.decode()
    assert b"stopped" in out
    assert b"from-env" not in out + err


@pytest.fixture
async def emu():
    ws = Workspace.seeded(seed=8, users=2)
    ws.add_user(User(id="U_ALICE", name="alice"))
    ws.add_channel(Channel(id="C_AUDIT", name="audit"))
    async with SlackEmulator(workspace=ws, bot_token="xoxb-test", app_token="xapp-test") as e:
        yield e


async def test_control_api_drives_and_inspects(emu):
    async def handler(payload, ack):
        if payload["type"] == "shortcut":
            await ack({"got": payload["callback_id"]})
            await app.web.chat_postMessage(
                channel="C_AUDIT",
                text="hi",
                blocks=[
                    {
                        "type": "actions",
                        "elements": [
                            {
                                "type": "button",
                                "action_id": "approve",
                                "text": {"type": "plain_text", "text": "Approve"},
                                "value": "req-1",
                            }
                        ],
                    }
                ],
            )
        else:
            await ack()

    app = SocketModeTestApp(emu, handler)
    base = emu.base_url + "/_emulator"
    async with app, aiohttp.ClientSession() as session:
        async with session.post(
            base + "/driver/shortcut", json={"user_id": "U_ALICE", "callback_id": "request_access"}
        ) as resp:
            assert resp.status == 200
            assert await resp.json() == {"got": "request_access"}
        await emu.wait_for_messages("C_AUDIT")
        async with session.get(base + "/messages", params={"channel": "C_AUDIT"}) as resp:
            [message] = await resp.json()
        assert message["text"] == "hi"
        async with session.post(
            base + "/driver/button",
            json={
                "user_id": "U_ALICE",
                "channel_id": "C_AUDIT",
                "ts": message["ts"],
                "action_id": "approve",
            },
        ) as resp:
            assert resp.status == 200
            assert await resp.json() is None
        async with session.post(base + "/driver/submit", json={"user_id": "U_ALICE"}) as resp:
            assert resp.status == 400
            assert "no modal open" in (await resp.json())["error"]
        async with session.post(base + "/driver/nope", json={}) as resp:
            assert resp.status == 404
        async with session.get(base + "/acks") as resp:
            acks = await resp.json()
        assert [a["payload_type"] for a in acks] == ["shortcut", "block_actions"]
        async with session.get(base + "/user-errors") as resp:
            assert await resp.json() == []
        async with session.get(base + "/dms/U_ALICE") as resp:
            assert await resp.json() == []
        async with session.get(base + "/views/U_ALICE") as resp:
            assert await resp.json() == []
        async with session.get(base + "/timeline") as resp:
            kinds = [e["kind"] for e in await resp.json()]
        assert "delivery" in kinds
        assert "message_posted" in kinds
        async with session.post(
            base + "/rate-limit-next", json={"method": "auth.test", "retry_after": 3}
        ) as resp:
            assert resp.status == 200
        async with session.post(
            emu.api_url + "auth.test", headers={"Authorization": "Bearer xoxb-test"}
        ) as resp:
            assert resp.status == 429
            assert resp.headers["Retry-After"] == "3"
        async with session.post(base + "/socket-disconnect", json={}) as resp:
            assert (await resp.json())["connections"] == 1
