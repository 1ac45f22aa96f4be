"""The emulated workspace: deterministic seeding, explicit additions, files."""

from __future__ import annotations

import pytest
from slack_sdk.web.async_client import AsyncWebClient

from emulators.slack import Channel, SlackEmulator, User, Workspace


def test_seeding_is_deterministic():
    first, second = Workspace.seeded(seed=1, users=20), Workspace.seeded(seed=1, users=20)
    assert [u.__dict__ for u in first.users.values()] == [u.__dict__ for u in second.users.values()]
    assert len(first.users) == 20
    assert len({u.email for u in first.users.values()}) == 20
    assert all(
        u.id.startswith("U") and u.email.endswith("@example.com") for u in first.users.values()
    )
    other = Workspace.seeded(seed=2, users=20)
    assert [u.id for u in other.users.values()] != [u.id for u in first.users.values()]
    assert {c.name for c in first.channels.values()} == {"general", "random"}


def test_explicit_additions_and_lookups():
    ws = Workspace.seeded(seed=1, users=2)
    ws.add_user(User(id="U_ALICE", name="alice", email="Alice@Example.com"))
    ws.add_channel(Channel(id="C06TH49GKHC", name="access-audit"))
    ws.add_usergroup(id="S0614TZR7", handle="oncall", users=["U_ALICE"])
    alice = ws.user_by_email("alice@example.com")
    channel = ws.channel_by_name("#access-audit")
    assert alice is not None
    assert channel is not None
    assert alice.id == "U_ALICE"
    assert channel.id == "C06TH49GKHC"
    assert ws.usergroups["S0614TZR7"].users == ["U_ALICE"]
    assert ws.dm_channel_id("U_ALICE") == Workspace().dm_channel_id("U_ALICE")
    assert ws.dm_channel_id("U_ALICE") != ws.dm_channel_id("U_BOB")


@pytest.mark.parametrize("suffix", [".yaml", ".json"])
def test_workspace_file(tmp_path, suffix):
    path = tmp_path / f"ws{suffix}"
    if suffix == ".yaml":
        path.write_text(
            "users:\n  - {id: U_ALICE, name: alice, email: alice@example.com, deleted: true}\n"
            "channels:\n  - {id: G1, name: secret, is_private: true, bot_is_member: false}\n"
            "usergroups:\n  - {id: S1, handle: oncall, users: [U_ALICE]}\n"
        )
    else:
        path.write_text('{"users": [{"id": "U_ALICE", "name": "alice", "deleted": true}]}')
    ws = Workspace.from_file(path)
    assert ws.users["U_ALICE"].deleted is True
    if suffix == ".yaml":
        assert ws.channels["G1"].is_private
        assert ws.usergroups["S1"].handle == "oncall"


async def test_users_info_knows_the_bot():
    async with SlackEmulator(bot_token="xoxb-test") as emu:
        web = AsyncWebClient(token="xoxb-test", base_url=emu.api_url)
        bot = (await web.users_info(user=emu.workspace.bot_user_id))["user"]
        assert bot["is_bot"] is True
        assert emu.base_url.startswith("http://127.0.0.1:")
    with pytest.raises(RuntimeError):
        _ = emu.api_url
