"""The console's pure parts and its additions to the Tailscale emulator."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from accessbot.natsserver import free_port
from accessbot.sandbox import Sandbox
from emulators.console.events import EventFeed
from emulators.console.people import people, role_of
from emulators.console.render import (
    MAX_DEVICES,
    MAX_MESSAGES,
    render_messages,
    render_people,
    render_tailnet,
)
from emulators.console.server import Console, Upstreams, make_app
from emulators.slack.blockkit_html import Directory
from emulators.tailscale import TailscaleEmulator
from emulators.tailscale.devices import generate_devices
from emulators.tailscale.timefmt import format_rfc3339
from shared.profiles import load_profiles
from tests.conftest import PROFILES_PATH

DIRECTORY = Directory(users={"U_DANA": "Dana"})


def _message(ts: str, text: str, **extra: object) -> dict[str, object]:
    return {"channel": "D1", "ts": ts, "text": text, "blocks": [], **extra}


def test_roles_come_from_profiles() -> None:
    profiles = load_profiles(Path(PROFILES_PATH))
    assert role_of("secops@example.com", profiles) == "admin"
    assert role_of("Alice@example.com", profiles) == "approver"
    assert role_of("dana@example.com", profiles) == "requester"
    users: list[dict[str, Any]] = [
        {"id": "U_DANA", "real_name": "Dana", "profile": {"email": "dana@example.com"}},
        {"id": "UBOT", "is_bot": True, "profile": {}},
        {"id": "U_GONE", "deleted": True, "profile": {"email": "gone@example.com"}},
    ]
    assert [(p.user_id, p.role) for p in people(users, profiles)] == [("U_DANA", "requester")]
    assert "&lt;dana@example.com&gt; (requester)" in render_people(people(users, profiles), None)


GROUPED_PROFILES = """
admins: [secops@example.com]
profiles:
  - id: db
    description: Databases
    attribute: custom:db
    approvers: {emails: [alice@example.com], slack_groups: [S0DBALEADS]}
    notify_channels: [C0AUDIT]
    request_ttl: 1h
    escalate_after: 30m
    escalate_to: {emails: [erin@example.com], slack_groups: [S0FALLBACK]}
"""


def test_escalation_contacts_and_members_of_approver_groups_are_approvers(
    tmp_path: Path,
) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(GROUPED_PROFILES, encoding="utf-8")
    profiles = load_profiles(path)
    users: list[dict[str, Any]] = [
        {"id": f"U_{n.upper()}", "real_name": n, "profile": {"email": f"{n}@example.com"}}
        for n in ("mia", "finn", "olaf", "erin")
    ]
    usergroups = [
        {"id": "S0DBALEADS", "users": ["U_MIA"]},
        {"id": "S0FALLBACK", "users": ["U_FINN"]},
        {"id": "S0NOTNAMED", "users": ["U_OLAF"]},
    ]
    roles = {p.user_id: p.role for p in people(users, profiles, usergroups)}
    assert roles == {
        "U_MIA": "approver",
        "U_FINN": "approver",
        "U_OLAF": "requester",
        "U_ERIN": "approver",
    }


async def test_a_user_group_mention_is_shown_by_its_handle() -> None:
    import time

    console = Console(Upstreams("http://unused", None), load_profiles(PROFILES_PATH), EventFeed())
    console._workspace = {
        "users": [],
        "channels": [],
        "usergroups": [{"id": "S0DBALEADS", "handle": "dba-oncall", "users": []}],
    }
    console._workspace_at = time.monotonic()  # fresh: no emulator is asked
    assert (await console.directory("U_ALICE")).groups == {"S0DBALEADS": "dba-oncall"}


def test_threads_edits_and_deleted_messages() -> None:
    html = render_messages(
        [
            _message("1.0", "parent", updates=[{"edited_ts": "2.0"}]),
            _message("1.5", "reply <@U_DANA>", thread_ts="1.0"),
            _message("1.7", "gone", deleted=True),
            _message("1.8", "only for someone", is_ephemeral=True),
        ],
        DIRECTORY,
    )
    assert "(edited)" in html
    assert '<details class="thread" open><summary>1 reply</summary>' in html
    assert html.index("parent") < html.index("@Dana")
    assert "gone" not in html
    assert "only for someone" not in html


def test_a_long_channel_shows_the_newest_messages_and_counts_the_rest() -> None:
    messages = [_message(f"{n}.0", f"message {n}") for n in range(MAX_MESSAGES + 5)]
    html = render_messages(messages, DIRECTORY)
    assert "5 older messages not shown" in html
    assert "message 4<" not in html
    assert f"message {MAX_MESSAGES + 4}" in html


def test_tailnet_lists_granted_devices_first_with_a_countdown_and_is_bounded() -> None:
    expiry = "2030-01-01T00:00:00Z"
    devices: list[dict[str, Any]] = [
        {"nodeId": f"n{k}", "name": f"host-{k:04}.tail.ts.net", "user": "x@example.com"}
        for k in range(MAX_DEVICES + 3)
    ]
    devices.append(
        {
            "nodeId": "nz",
            "name": "zz-last.tail.ts.net",
            "user": "dana@example.com",
            "tags": ["tag:prod", "tag:db"],
            "addresses": ["100.64.0.9"],
            "attributes": {"custom:prodAccess": {"value": True, "expiry": expiry}},
        }
    )
    html = render_tailnet(devices, owner="dana@example.com")
    assert html.index("zz-last") < html.index("host-0000")
    assert f'data-expiry="{expiry}"' in html
    assert "<code>custom:prodAccess</code> = <code>true</code>" in html
    assert "4 more devices not shown" in html
    assert html.count('<tr class="device') == MAX_DEVICES
    # a narrow Owner column wraps an email before its @, never inside a word
    assert "<td>dana<wbr>@example.com</td>" in html
    assert "<code>100.<wbr>64.<wbr>0.<wbr>9</code>" in html  # after a dot, not over Posture
    assert '<td>zz-last<div class="tags">tag:prod, tag:db</div></td>' in html
    assert html.count('class="tags"') == 1  # untagged devices show no tag line


def test_event_feed_is_bounded_and_skips_events_read_twice() -> None:
    feed = EventFeed(limit=3)
    feed.write('{"id": "a"}\n{"id": "a"}\n')
    for name in "bcd":
        feed.add({"id": name})
    held = feed.after(0)
    assert [e["event"]["id"] for e in held] == ["b", "c", "d"]
    assert [e["n"] for e in feed.after(3)] == [4]


@pytest.mark.emulator
async def test_tailscale_tailnet_control_and_a_400_fault() -> None:
    async with TailscaleEmulator("example.com", generate_devices(5, seed=1)) as emu:
        node = emu.devices()[0]["nodeId"]
        expiry = format_rfc3339(datetime.now(UTC) + timedelta(hours=1))
        emu.restore_attribute(node, "custom:prodAccess", value=True, expiry=expiry, comment=None)
        async with httpx.AsyncClient(base_url=emu.base_url) as http:
            devices = (await http.get("/_emulator/tailnet")).json()["devices"]
            assert len(devices) == 5
            granted = next(d for d in devices if d["nodeId"] == node)
            assert granted["attributes"]["custom:prodAccess"]["value"] is True
            assert granted["attributes"]["custom:prodAccess"]["expiry"] == expiry
            assert set(granted) >= {"name", "user", "tags", "addresses"}
            armed = await http.post("/_emulator/faults", json={"kind": 400, "path": "/attributes"})
            assert armed.status_code == 201
            refused = await http.get(f"/api/v2/device/{node}/attributes")
            assert refused.status_code == 400


def test_no_console_where_slack_is_real(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-real")
    sandbox = Sandbox.for_environment(
        load_profiles(Path(PROFILES_PATH)), data_dir=tmp_path, devices=1
    )
    assert not sandbox.use_slack
    sandbox.start_console({}, Path(PROFILES_PATH))  # Slack not emulated: nothing started
    assert sandbox.console_url is None
    assert not any("console" in line for line in sandbox.urls() + sandbox.try_it())


@pytest.mark.emulator
async def test_an_emulator_that_does_not_answer_is_one_line_for_the_browser() -> None:
    profiles = load_profiles(Path(PROFILES_PATH))
    gone = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    app = make_app(Console(Upstreams(gone, gone), profiles, EventFeed()))
    runner = web.AppRunner(app)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            answer = await http.get("/api/slack/U_DANA")
            assert answer.status_code == 502
            assert "did not answer" in answer.json()["error"]
            assert "Traceback" not in answer.text
            assert (await http.post("/api/slack/U_DANA/launch", json={})).status_code == 404
    finally:
        await runner.cleanup()


async def test_dates_show_in_the_viewer_s_own_zone_as_slack_shows_them() -> None:
    import time

    console = Console(Upstreams("http://unused", None), load_profiles(PROFILES_PATH), EventFeed())
    console._workspace = {
        "users": [
            {"id": "U_ALICE", "name": "alice", "tz": "America/New_York"},
            {"id": "U_BOB", "name": "bob", "tz": "Asia/Tokyo"},
        ],
        "channels": [],
    }
    console._workspace_at = time.monotonic()  # fresh: no emulator is asked
    assert (await console.directory("U_ALICE")).tz == "America/New_York"
    assert (await console.directory("U_BOB")).tz == "Asia/Tokyo"
    assert (await console.directory("U_NOBODY")).tz == "UTC"


@pytest.mark.emulator
async def test_the_home_tab_is_the_published_view_escaped_and_its_clicks_reach_the_app() -> None:
    from slack_sdk.web.async_client import AsyncWebClient

    from emulators.slack import SlackEmulator, User, Workspace
    from emulators.slack.testing import Ack, SocketModeTestApp

    workspace = Workspace.seeded(seed=7, users=1)
    workspace.add_user(User(id="U_DANA", name="dana", email="dana@example.com"))
    received: list[dict[str, Any]] = []

    async def app_handler(payload: dict[str, Any], ack: Ack) -> None:
        received.append(payload)
        await ack()

    home = {
        "type": "home",
        "blocks": [
            {"type": "section", "text": {"type": "mrkdwn", "text": "<script>x()</script> hi"}},
            {
                "type": "actions",
                "block_id": "home_decide:R1:actions",
                "elements": [
                    {
                        "type": "button",
                        "action_id": "approve",
                        "value": "R1",
                        "text": {"type": "plain_text", "text": "Approve"},
                    }
                ],
            },
        ],
    }
    async with SlackEmulator(workspace=workspace) as emu:
        app = make_app(
            Console(Upstreams(emu.base_url, None), load_profiles(PROFILES_PATH), EventFeed())
        )
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        try:
            async with (
                SocketModeTestApp(emu, app_handler),
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http,
            ):
                assert (await http.get("/api/slack/U_DANA")).json()["home"] is None
                answer = await http.post("/api/slack/U_DANA/open-home", json={"tab": "home"})
                assert answer.json() == {"ok": True}
                assert received[-1]["event"]["type"] == "app_home_opened"

                bot = AsyncWebClient(token=emu.bot_token, base_url=emu.api_url)
                await bot.views_publish(user_id="U_DANA", view=home)
                first = (await http.get("/api/slack/U_DANA")).json()["home"]
                assert "&lt;script&gt;" in first["html"]
                assert "<script>" not in first["html"]
                assert 'data-block-id="home_decide:R1:actions"' in first["html"]
                await bot.views_publish(user_id="U_DANA", view=home)
                again = (await http.get("/api/slack/U_DANA")).json()["home"]
                assert again["key"] != first["key"]  # republished: the browser redraws

                click = {"action_id": "approve", "block_id": "home_decide:R1:actions"}
                answer = await http.post("/api/slack/U_DANA/home-button", json=click)
                assert answer.json() == {"ok": True}
                assert received[-1]["type"] == "block_actions"
                assert received[-1]["view"]["type"] == "home"
                assert received[-1]["actions"][0]["value"] == "R1"

                answer = await http.post("/api/slack/U_DANA/home-button", json={"action_id": "no"})
                assert "no element 'no'" in answer.json()["error"]
                assert "Traceback" not in answer.text
        finally:
            await runner.cleanup()
