"""Slack emulator Web API: every method's happy path and documented errors, through the
unmodified slack_sdk AsyncWebClient over real HTTP."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import Channel, SlackEmulator, User, Workspace

BOT, APP, SECRET = "xoxb-test", "xapp-test", "shhh"
AUDIT = "C06TH49GKHC"
MODAL = {
    "type": "modal",
    "callback_id": "request_access",
    "title": {"type": "plain_text", "text": "Request access"},
    "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Pick a profile"}}],
}


def workspace() -> Workspace:
    ws = Workspace.seeded(seed=1, users=5)
    ws.add_user(
        User(id="U_ALICE", name="alice", real_name="Alice Example", email="alice@example.com")
    )
    ws.add_user(User(id="U_BOB", name="bob", real_name="Bob Example", email="bob@example.com"))
    ws.add_user(User(id="U_GONE", name="gone", email="gone@example.com", deleted=True))
    ws.add_channel(Channel(id=AUDIT, name="access-audit", bot_is_member=True))
    ws.add_channel(Channel(id="C_PUBLIC_NOT_JOINED", name="random2", bot_is_member=False))
    ws.add_channel(Channel(id="G_SECRET", name="secret", is_private=True, bot_is_member=False))
    ws.add_channel(
        Channel(id="G_TEAM", name="team", is_private=True, bot_is_member=True, members=["U_ALICE"])
    )
    ws.add_channel(Channel(id="C_OLD", name="old", is_archived=True))
    ws.add_usergroup(id="S0614TZR7", handle="oncall", users=["U_ALICE"])
    ws.add_usergroup(id="S0OLDTEAM", handle="old-team", users=["U_BOB"], disabled=True)
    return ws


@pytest.fixture
async def emu():
    async with SlackEmulator(
        workspace=workspace(),
        bot_token=BOT,
        app_token=APP,
        signing_secret=SECRET,
        trigger_ttl=0.3,
    ) as emulator:
        yield emulator


@pytest.fixture
def web(emu):
    return AsyncWebClient(token=BOT, base_url=emu.api_url)


async def error_of(call) -> str:
    with pytest.raises(SlackApiError) as info:
        await call
    return info.value.response["error"]


# -- auth -------------------------------------------------------------------------------


async def test_auth_test_names_the_bot(emu, web):
    response = await web.auth_test()
    assert response["ok"] is True
    assert response["user_id"] == emu.workspace.bot_user_id
    assert response["bot_id"] == emu.workspace.bot_id
    assert response["team_id"] == emu.workspace.team_id


async def test_wrong_or_missing_token(emu):
    assert await error_of(AsyncWebClient(token="xoxb-wrong", base_url=emu.api_url).auth_test()) == (
        "invalid_auth"
    )
    assert await error_of(AsyncWebClient(base_url=emu.api_url).auth_test()) == "not_authed"
    # the app-level token is not a bot token
    assert await error_of(AsyncWebClient(token=APP, base_url=emu.api_url).auth_test()) == (
        "invalid_auth"
    )


async def test_token_in_form_body_is_accepted_and_never_recorded(emu):
    async with (
        aiohttp.ClientSession() as session,
        session.post(emu.api_url + "users.info", data={"token": BOT, "user": "U_ALICE"}) as resp,
    ):
        body = await resp.json()
    assert body["ok"] is True
    recorded = emu.calls("users.info")[-1]
    assert "token" not in recorded.params
    assert BOT not in repr(emu.timeline())


async def test_unknown_method(emu, web):
    assert await error_of(web.api_call("nope.nothing")) == "unknown_method"
    assert emu.api_calls[-1].status == 200


async def test_apps_connections_open_needs_the_app_token(emu, web):
    response = await AsyncWebClient(base_url=emu.api_url).apps_connections_open(app_token=APP)
    assert response["url"].startswith(emu.base_url.replace("http://", "ws://") + "/socket?ticket=")
    assert await error_of(web.apps_connections_open(app_token=BOT)) == "invalid_auth"


# -- chat.postMessage ------------------------------------------------------------------------


async def test_post_message_returns_channel_ts_and_message(emu, web):
    response = await web.chat_postMessage(channel=AUDIT, text="hello")
    assert response["channel"] == AUDIT
    assert response["message"]["text"] == "hello"
    assert response["message"]["bot_id"] == emu.workspace.bot_id
    [message] = emu.messages(AUDIT)
    assert (message.ts, message.text, message.user) == (
        response["ts"],
        "hello",
        emu.workspace.bot_user_id,
    )


async def test_post_message_to_a_user_id_lands_in_their_dm(emu, web):
    response = await web.chat_postMessage(channel="U_ALICE", text="psst")
    assert response["channel"] == emu.dm_channel("U_ALICE")
    assert response["channel"].startswith("D")
    assert [m.text for m in emu.dms("U_ALICE")] == ["psst"]
    opened = await web.conversations_open(users="U_ALICE")
    assert opened["channel"]["id"] == emu.dm_channel("U_ALICE")


async def test_post_message_thread_reply(emu, web):
    parent = await web.chat_postMessage(channel=AUDIT, text="request")
    reply = await web.chat_postMessage(channel=AUDIT, text="approved", thread_ts=parent["ts"])
    assert reply["message"]["thread_ts"] == parent["ts"]
    assert [m.thread_ts for m in emu.messages(AUDIT)] == [None, parent["ts"]]
    assert float(reply["ts"]) > float(parent["ts"])


async def test_post_message_channel_errors(web):
    assert await error_of(web.chat_postMessage(channel="C_NOPE", text="x")) == "channel_not_found"
    assert await error_of(web.chat_postMessage(channel="G_SECRET", text="x")) == "not_in_channel"
    assert await error_of(web.chat_postMessage(channel="C_OLD", text="x")) == "is_archived"
    # chat:write.public: public channels work without joining
    assert (await web.chat_postMessage(channel="C_PUBLIC_NOT_JOINED", text="x"))["ok"]


async def test_post_message_content_errors(web):
    # (the SDK itself warns about a missing text, so go around its helper)
    assert await error_of(web.api_call("chat.postMessage", json={"channel": AUDIT})) == "no_text"
    assert await error_of(web.chat_postMessage(channel=AUDIT, text="x" * 40_001)) == "msg_too_long"
    assert (await web.chat_postMessage(channel=AUDIT, text="x" * 40_000))["ok"]


async def test_post_message_invalid_blocks(web):
    too_many = [{"type": "divider"}] * 51
    with pytest.raises(SlackApiError) as info:
        await web.chat_postMessage(channel=AUDIT, text="x", blocks=too_many)
    assert info.value.response["error"] == "invalid_blocks"
    assert "no more than 50 items" in info.value.response["response_metadata"]["messages"][0]
    long_value = [
        {
            "type": "actions",
            "elements": [
                {
                    "type": "button",
                    "action_id": "approve",
                    "text": {"type": "plain_text", "text": "Approve"},
                    "value": "v" * 2001,
                }
            ],
        }
    ]
    assert await error_of(web.chat_postMessage(channel=AUDIT, text="x", blocks=long_value)) == (
        "invalid_blocks"
    )
    assert (await web.chat_postMessage(channel=AUDIT, text="x", blocks=[{"type": "divider"}] * 50))[
        "ok"
    ]


async def test_post_message_as_form_with_json_string_blocks(emu):
    blocks = '[{"type": "section", "text": {"type": "mrkdwn", "text": "*hi*"}}]'
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {BOT}"}) as session,
        session.post(
            emu.api_url + "chat.postMessage", data={"channel": AUDIT, "blocks": blocks}
        ) as resp,
    ):
        body = await resp.json()
    assert body["ok"] is True
    assert body["message"]["blocks"][0]["text"]["text"] == "*hi*"
    assert body["message"]["blocks"][0]["block_id"]  # Slack fills in block ids


# -- chat.update / chat.postEphemeral ------------------------------------------------------------


async def test_chat_update_keeps_history(emu, web):
    posted = await web.chat_postMessage(channel=AUDIT, text="pending")
    response = await web.chat_update(channel=AUDIT, ts=posted["ts"], text="approved")
    assert response["ts"] == posted["ts"]
    assert response["text"] == "approved"
    [message] = emu.messages(AUDIT)
    assert message.text == "approved"
    assert [u["text"] for u in message.updates] == ["approved"]


async def test_chat_update_errors(emu, web):
    assert await error_of(web.chat_update(channel=AUDIT, ts="1.000001", text="x")) == (
        "message_not_found"
    )
    human = emu.post_as_user("U_ALICE", AUDIT, "my own words")
    assert await error_of(web.chat_update(channel=AUDIT, ts=human.ts, text="x")) == (
        "cant_update_message"
    )
    assert await error_of(web.chat_update(channel="C_NOPE", ts=human.ts, text="x")) == (
        "channel_not_found"
    )


async def test_chat_update_needs_the_dm_channel_id_not_the_user_id(emu, web):
    """chat.postMessage takes a user id and answers the D... id; chat.update needs that id."""
    posted = await web.chat_postMessage(channel="U_ALICE", text="pending")
    assert await error_of(web.chat_update(channel="U_ALICE", ts=posted["ts"], text="x")) == (
        "channel_not_found"
    )
    assert await error_of(web.chat_update(channel="#general", ts=posted["ts"], text="x")) == (
        "channel_not_found"
    )
    updated = await web.chat_update(channel=posted["channel"], ts=posted["ts"], text="approved")
    assert updated["channel"] == emu.dm_channel("U_ALICE")
    assert [m.text for m in emu.dms("U_ALICE")] == ["approved"]


async def test_post_ephemeral(emu, web):
    response = await web.chat_postEphemeral(channel=AUDIT, user="U_ALICE", text="only you")
    [message] = emu.ephemerals("U_ALICE")
    assert message.ts == response["message_ts"]
    assert message.is_ephemeral
    assert message.for_user == "U_ALICE"
    assert emu.ephemerals("U_BOB") == []


async def test_post_ephemeral_errors(web):
    assert await error_of(web.chat_postEphemeral(channel="G_TEAM", user="U_BOB", text="x")) == (
        "user_not_in_channel"
    )
    assert await error_of(web.chat_postEphemeral(channel=AUDIT, user="U_NOBODY", text="x")) == (
        "user_not_found"
    )
    assert await error_of(
        web.api_call("chat.postEphemeral", json={"channel": AUDIT, "text": "x"})
    ) == ("invalid_arguments")
    assert await error_of(web.chat_postEphemeral(channel="C_NOPE", user="U_BOB", text="x")) == (
        "channel_not_found"
    )


# -- users / conversations / usergroups -------------------------------------------------------


async def test_users_info(web):
    user = (await web.users_info(user="U_ALICE"))["user"]
    assert user["real_name"] == "Alice Example"
    assert user["profile"]["email"] == "alice@example.com"
    assert user["deleted"] is False
    assert user["tz"]
    gone = (await web.users_info(user="U_GONE"))["user"]
    assert gone["deleted"] is True
    assert await error_of(web.users_info(user="U_NOBODY")) == "user_not_found"


async def test_users_info_carries_the_documented_fields(emu, web):
    user = (await web.users_info(user="U_ALICE"))["user"]
    for field in ("tz", "tz_label", "tz_offset"):
        assert field in user, field
    assert isinstance(user["tz_offset"], int)
    for flag in ("is_restricted", "is_ultra_restricted", "has_2fa", "is_bot", "is_admin"):
        assert user[flag] is False, flag


async def test_a_bot_user_has_no_email(emu, web):
    bot = (await web.users_info(user=emu.workspace.bot_user_id))["user"]
    assert bot["is_bot"] is True
    assert "email" not in bot["profile"]
    assert bot["profile"]["bot_id"] == emu.workspace.bot_id
    assert bot["profile"]["api_app_id"] == emu.workspace.app_id


async def test_users_lookup_by_email(web):
    user = (await web.users_lookupByEmail(email="Alice@Example.com"))["user"]
    assert user["id"] == "U_ALICE"
    assert await error_of(web.users_lookupByEmail(email="nobody@example.com")) == "users_not_found"
    assert await error_of(web.users_lookupByEmail(email="gone@example.com")) == "users_not_found"


async def test_conversations_open_is_stable_per_user(emu, web):
    first = (await web.conversations_open(users="U_BOB"))["channel"]["id"]
    second = await web.conversations_open(users=["U_BOB"])
    assert second["channel"]["id"] == first == emu.dm_channel("U_BOB")
    assert second["already_open"] is True
    assert first != emu.dm_channel("U_ALICE")
    assert await error_of(web.conversations_open(users="U_NOBODY")) == "user_not_found"


async def test_conversations_open_with_a_deactivated_user_is_user_disabled(web):
    assert await error_of(web.conversations_open(users="U_GONE")) == "user_disabled"
    assert await error_of(web.conversations_open(users="U_ALICE,U_GONE")) == "user_disabled"


async def test_usergroups_users_list(web):
    assert (await web.usergroups_users_list(usergroup="S0614TZR7"))["users"] == ["U_ALICE"]
    assert await error_of(web.usergroups_users_list(usergroup="S_NOPE")) == "no_such_subteam"
    assert await error_of(web.api_call("usergroups.users.list")) == "no_such_subteam"


async def test_usergroups_users_list_finds_a_disabled_group_only_with_include_disabled(web):
    assert await error_of(web.usergroups_users_list(usergroup="S0OLDTEAM")) == "no_such_subteam"
    found = await web.usergroups_users_list(usergroup="S0OLDTEAM", include_disabled=True)
    assert found["users"] == ["U_BOB"]


async def test_usergroups_list_leaves_disabled_groups_out_unless_asked(web):
    listed = (await web.usergroups_list())["usergroups"]
    assert [g["id"] for g in listed] == ["S0614TZR7"]
    assert listed[0]["date_delete"] == 0
    assert listed[0]["handle"] == "oncall"
    assert "users" not in listed[0]
    assert "user_count" not in listed[0]
    every = (
        await web.usergroups_list(include_disabled=True, include_users=True, include_count=True)
    )["usergroups"]
    old = next(g for g in every if g["id"] == "S0OLDTEAM")
    assert old["date_delete"] > 0
    assert old["users"] == ["U_BOB"]
    assert old["user_count"] == "1"


async def test_usergroups_methods_need_usergroups_read():
    async with SlackEmulator(
        workspace=workspace(), bot_token=BOT, bot_scopes=["chat:write", "users:read"]
    ) as emulator:
        client = AsyncWebClient(token=BOT, base_url=emulator.api_url)
        for call in (client.usergroups_list(), client.usergroups_users_list(usergroup="S0614TZR7")):
            with pytest.raises(SlackApiError) as caught:
                await call
            assert caught.value.response["error"] == "missing_scope"
            assert caught.value.response["needed"] == "usergroups:read"
            assert caught.value.response["provided"] == "chat:write,users:read"
        assert (await client.users_info(user="U_ALICE"))["ok"]  # unchecked methods still work


# -- views -----------------------------------------------------------------------------------------


async def test_views_open_with_a_fresh_trigger(emu, web):
    trigger = emu._state.triggers.issue("U_ALICE", "test")
    view = (await web.views_open(trigger_id=trigger, view=MODAL))["view"]
    assert view["id"].startswith("V")
    assert view["hash"]
    assert view["callback_id"] == "request_access"
    assert view["state"] == {"values": {}}
    assert emu.driver.current_view("U_ALICE")["id"] == view["id"]
    assert emu.views("U_ALICE")[-1]["id"] == view["id"]


async def test_trigger_is_single_use(emu, web):
    trigger = emu._state.triggers.issue("U_ALICE", "test")
    await web.views_open(trigger_id=trigger, view=MODAL)
    assert await error_of(web.views_open(trigger_id=trigger, view=MODAL)) == "exchanged_trigger_id"
    assert await error_of(web.views_open(trigger_id="1.2.made-up", view=MODAL)) == (
        "invalid_trigger_id"
    )


async def test_trigger_expires(emu, web):
    trigger = emu._state.triggers.issue("U_ALICE", "test")
    await asyncio.sleep(0.35)  # trigger_ttl=0.3 here; Slack's is 3 s
    assert await error_of(web.views_open(trigger_id=trigger, view=MODAL)) == "expired_trigger_id"


async def test_views_open_rejects_invalid_views_without_using_the_trigger(emu, web):
    trigger = emu._state.triggers.issue("U_ALICE", "test")
    long_title = {**MODAL, "title": {"type": "plain_text", "text": "x" * 25}}
    with pytest.raises(SlackApiError) as info:
        await web.views_open(trigger_id=trigger, view=long_title)
    assert info.value.response["error"] == "invalid_arguments"
    assert info.value.response["response_metadata"]["messages"] == [
        "[ERROR] must be less than 25 characters [json-pointer:/view/title/text]"
    ]
    huge = {
        **MODAL,
        "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}] * 90,
    }
    assert await error_of(web.views_open(trigger_id=trigger, view=huge)) == "view_too_large"
    assert (await web.views_open(trigger_id=trigger, view=MODAL))["ok"]


async def test_views_update_and_hash_conflict(emu, web):
    trigger = emu._state.triggers.issue("U_ALICE", "test")
    opened = (await web.views_open(trigger_id=trigger, view=MODAL))["view"]
    changed = {**MODAL, "private_metadata": "step-2"}
    updated = (await web.views_update(view_id=opened["id"], hash=opened["hash"], view=changed))[
        "view"
    ]
    assert updated["id"] == opened["id"]
    assert updated["hash"] != opened["hash"]
    assert updated["private_metadata"] == "step-2"
    # the old hash is stale now
    assert await error_of(
        web.views_update(view_id=opened["id"], hash=opened["hash"], view=MODAL)
    ) == ("hash_conflict")
    assert await error_of(web.views_update(view_id="V_NOPE", view=MODAL)) == "not_found"
    assert [v["private_metadata"] for v in emu.views("U_ALICE")] == ["", "step-2"]


async def test_views_update_by_external_id(emu, web):
    trigger = emu._state.triggers.issue("U_ALICE", "test")
    await web.views_open(trigger_id=trigger, view={**MODAL, "external_id": "req-1"})
    updated = await web.views_update(external_id="req-1", view={**MODAL, "private_metadata": "m"})
    assert updated["view"]["external_id"] == "req-1"
    assert await error_of(web.views_update(external_id="req-2", view=MODAL)) == "not_found"


async def test_views_push_limit(emu, web):
    await web.views_open(trigger_id=emu._state.triggers.issue("U_ALICE", "t"), view=MODAL)
    for _ in range(2):
        pushed = await web.views_push(
            trigger_id=emu._state.triggers.issue("U_ALICE", "t"), view=MODAL
        )
        assert pushed["view"]["previous_view_id"]
    assert (
        await error_of(
            web.views_push(trigger_id=emu._state.triggers.issue("U_ALICE", "t"), view=MODAL)
        )
        == "push_limit_reached"
    )
    assert len(emu._state.modals.stacks["U_ALICE"]) == 3


# -- rate limits and injected failures ------------------------------------------------


async def test_rate_limit_answers_429_with_integer_retry_after(emu):
    emu.rate_limit_next("users.info", count=1, retry_after=7)
    async with (
        aiohttp.ClientSession(headers={"Authorization": f"Bearer {BOT}"}) as session,
        session.post(emu.api_url + "users.info", data={"user": "U_ALICE"}) as resp,
    ):
        assert resp.status == 429
        assert resp.headers["Retry-After"] == "7"
        assert await resp.json() == {"ok": False, "error": "ratelimited"}
    assert emu.calls("users.info")[-1].status == 429


async def test_sdk_retry_handler_retries_through_429(emu):
    emu.rate_limit_next("chat.postMessage", count=1, retry_after=0)
    web = AsyncWebClient(
        token=BOT,
        base_url=emu.api_url,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=2)],
    )
    response = await web.chat_postMessage(channel=AUDIT, text="eventually")
    assert response["ok"] is True
    assert [c.status for c in emu.calls("chat.postMessage")] == [429, 200]
    assert len(emu.messages(AUDIT)) == 1


async def test_without_retry_handler_the_sdk_raises_ratelimited(emu, web):
    emu.rate_limit_next("users.info", count=1, retry_after=1)
    with pytest.raises(SlackApiError) as info:
        await web.users_info(user="U_ALICE")
    assert info.value.response.status_code == 429
    assert info.value.response.headers["Retry-After"] == "1"


async def test_default_limits_come_from_the_tiers():
    ws = workspace()
    async with SlackEmulator(workspace=ws, bot_token=BOT, rate_limits={"users.info": 3}) as emu:
        web = AsyncWebClient(token=BOT, base_url=emu.api_url)
        for _ in range(3):
            await web.users_info(user="U_ALICE")
        with pytest.raises(SlackApiError) as info:
            await web.users_info(user="U_ALICE")
        retry_after = int(info.value.response.headers["Retry-After"])
        assert 1 <= retry_after <= 60
        # other methods have their own budget
        assert (await web.users_lookupByEmail(email="alice@example.com"))["ok"]


async def test_chat_post_message_limit_is_per_channel():
    async with SlackEmulator(
        workspace=workspace(), bot_token=BOT, rate_limits={"chat.postMessage": 2}
    ) as emu:
        web = AsyncWebClient(token=BOT, base_url=emu.api_url)
        for _ in range(2):
            await web.chat_postMessage(channel=AUDIT, text="x")
        assert await error_of(web.chat_postMessage(channel=AUDIT, text="x")) == "ratelimited"
        assert (await web.chat_postMessage(channel="U_ALICE", text="x"))["ok"]


async def test_unlimited_method():
    async with SlackEmulator(workspace=workspace(), bot_token=BOT, rate_limits={"*": None}) as emu:
        web = AsyncWebClient(token=BOT, base_url=emu.api_url)
        await asyncio.gather(*(web.usergroups_users_list(usergroup="S0614TZR7") for _ in range(25)))
        assert all(c.ok for c in emu.calls("usergroups.users.list"))


async def test_fail_next(emu, web):
    emu.fail_next("chat.postMessage", error="channel_not_found", count=2)
    for _ in range(2):
        assert await error_of(web.chat_postMessage(channel=AUDIT, text="x")) == "channel_not_found"
    assert (await web.chat_postMessage(channel=AUDIT, text="x"))["ok"]
    assert [c.error for c in emu.calls("chat.postMessage")] == ["channel_not_found"] * 2 + [None]


async def test_api_calls_are_recorded_in_order(emu, web):
    start = time.time()
    await web.auth_test()
    await web.users_info(user="U_ALICE")
    calls = emu.api_calls
    assert [c.method for c in calls] == ["auth.test", "users.info"]
    assert calls[1].params["user"] == "U_ALICE"
    assert all(c.ok and c.status == 200 and c.time >= start for c in calls)
