"""`accessbot profiles check --online` against the Slack emulator: every named group that
Slack does not know, has disabled, leaves empty or makes too large is one line (exit 2);
Slack refusing the token is one line (exit 1); nothing named, nothing asked."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from accessbot.natsserver import env_without_secrets
from emulators.slack import SlackEmulator, User, Workspace
from shared.contracts.events import MAX_GROUP_MEMBERS

REPO = Path(__file__).resolve().parents[2]
BOT = "xoxb-online-check"

pytestmark = pytest.mark.e2e


def profiles(*groups: str) -> str:
    return (
        "profiles:\n"
        "  - id: prod\n"
        "    description: Production\n"
        "    attribute: custom:prodAccess\n"
        f"    approvers: {{slack_groups: [{', '.join(groups)}]}}\n"
    )


@pytest.fixture
async def emu() -> AsyncIterator[SlackEmulator]:
    ws = Workspace.seeded(seed=3, users=2)
    members = [ws.add_user(User(id=f"U_M{i:03d}", name=f"m{i}")).id for i in range(101)]
    ws.add_usergroup("S0ONCALL1", "oncall", members[:2])
    ws.add_usergroup("S0EMPTY01", "nobody", [])
    ws.add_usergroup("S0GONE001", "former", members[:1], disabled=True)
    ws.add_usergroup("S0CROWD01", "everyone", members[: MAX_GROUP_MEMBERS + 1])
    async with SlackEmulator(workspace=ws, bot_token=BOT, app_token="xapp-online") as e:
        yield e


async def check(
    path: Path, emu: SlackEmulator, *, token: str = BOT, online: bool = True
) -> tuple[int, str, str]:
    """Run the CLI as a user would; the emulator keeps serving in this loop meanwhile."""
    args = ["profiles", "check", str(path)] + (["--online"] if online else [])
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "accessbot",
        *args,
        cwd=REPO,
        env={**env_without_secrets(), "SLACK_BOT_TOKEN": token, "SLACK_API_URL": emu.api_url},
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), 60)
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


def calls(emu: SlackEmulator) -> list[str]:
    return [c.method for c in emu.api_calls]


async def test_groups_slack_knows_pass(tmp_path: Path, emu: SlackEmulator) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(profiles("S0ONCALL1"), encoding="utf-8")
    code, out, err = await check(path, emu)
    assert (code, err) == (0, "")
    assert "OK: 1 profile, 0 approvers, 1 approver group" in out
    assert calls(emu).count("usergroups.list") == 1


async def test_each_bad_group_is_one_line(tmp_path: Path, emu: SlackEmulator) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(
        profiles("S0ONCALL1", "S0MISSING", "S0EMPTY01", "S0GONE001", "S0CROWD01"),
        encoding="utf-8",
    )
    code, out, err = await check(path, emu)
    where = f"{path}: profile 'prod': approvers.slack_groups:"
    assert code == 2, (out, err)
    assert out == ""
    assert err.splitlines() == [
        f"{where} S0MISSING is not a user group of this Slack workspace",
        f"{where} S0EMPTY01 (@nobody) has no members",
        f"{where} S0GONE001 (@former) is disabled, so nobody in it is asked",
        f"{where} S0CROWD01 (@everyone) has {MAX_GROUP_MEMBERS + 1} members; "
        f"at most {MAX_GROUP_MEMBERS} may approve",
        f"{path}: 4 problem(s)",
    ]


async def test_a_refused_token_is_one_line(tmp_path: Path, emu: SlackEmulator) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(profiles("S0ONCALL1"), encoding="utf-8")
    code, out, err = await check(path, emu, token="xoxb-not-issued")
    assert code == 1, (out, err)
    assert "Traceback" not in err
    assert err.splitlines() == [
        f"{path}: Slack refused usergroups.list: invalid_auth "
        "(SLACK_BOT_TOKEN is not a valid bot token)"
    ]


async def test_without_online_slack_is_not_asked(tmp_path: Path, emu: SlackEmulator) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(profiles("S0MISSING"), encoding="utf-8")
    code, _, err = await check(path, emu, online=False)
    assert (code, err) == (0, "")
    assert "usergroups.list" not in calls(emu)
