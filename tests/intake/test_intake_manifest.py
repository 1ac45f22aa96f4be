"""deploy/slack-app-manifest.yaml creates the app intake and notifier need, and no more."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from shared.slack_ids import CallbackId
from tests.conftest import REPO_ROOT

MANIFEST = REPO_ROOT / "deploy" / "slack-app-manifest.yaml"
CALLERS = [REPO_ROOT / "services" / "intake", REPO_ROOT / "services" / "notifier"]

# Bot scopes each Web API method needs (docs.slack.dev method pages). A method missing
# here fails the test: look its scopes up and add it, then check the manifest.
METHOD_SCOPES: dict[str, set[str]] = {
    "auth.test": set(),
    "views.open": set(),
    "views.update": set(),
    "views.push": set(),
    "views.publish": set(),
    "chat.postMessage": {"chat:write"},
    "chat.update": {"chat:write"},
    "chat.postEphemeral": {"chat:write"},
    "chat.delete": {"chat:write"},
    "users.info": {"users:read", "users:read.email"},  # email only with users:read.email
    "users.lookupByEmail": {"users:read.email"},
    "conversations.open": {"im:write"},
    "usergroups.users.list": {"usergroups:read"},
}
# Scopes a feature needs rather than a method.
FEATURE_SCOPES = {
    "commands": "global shortcuts",
    "chat:write.public": "posting to public audit channels the bot was not invited to",
}
_CALL = re.compile(
    r"\.(auth|views|chat|usergroups|users|conversations|reactions|apps|team)_(\w+)\("
)
# Methods called by name with a ready JSON body (shared.slack_web.JsonCalls).
_JSON_CALL = re.compile(
    r'\.call\(\s*"((?:auth|views|chat|usergroups|users|conversations|reactions|apps|team)'
    r'\.[A-Za-z.]+)"'
)


def manifest() -> dict[str, Any]:
    data = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def methods_called() -> set[str]:
    found: set[str] = set()
    for folder in CALLERS:
        for path in Path(folder).rglob("*.py"):
            source = path.read_text(encoding="utf-8")
            for family, name in _CALL.findall(source):
                found.add(f"{family}.{name.replace('_', '.')}")  # usergroups.users.list
            found.update(_JSON_CALL.findall(source))
    return found


def test_shortcut_matches_the_callback_id_intake_handles() -> None:
    shortcuts = manifest()["features"]["shortcuts"]
    assert [s["callback_id"] for s in shortcuts] == [CallbackId.REQUEST_SHORTCUT.value]
    assert all(s["type"] == "global" for s in shortcuts)
    assert len(shortcuts) <= 10
    assert all(len(s["name"]) <= 24 for s in shortcuts)
    assert all(len(s["description"]) <= 150 for s in shortcuts)


def test_names_within_slack_limits_and_socket_mode_with_interactivity() -> None:
    data = manifest()
    assert len(data["display_information"]["name"]) <= 35
    assert len(data["features"]["bot_user"]["display_name"]) <= 80
    assert data["settings"]["socket_mode_enabled"] is True
    assert data["settings"]["interactivity"]["is_enabled"] is True


def test_every_method_called_is_covered_and_no_scope_is_spare() -> None:
    scopes = set(manifest()["oauth_config"]["scopes"]["bot"])
    called = methods_called()
    assert {"views.open", "views.update", "users.info", "chat.postMessage"} <= called
    assert "usergroups.users.list" in called  # approver groups (services/intake)
    unknown = called - set(METHOD_SCOPES)
    assert not unknown, f"add the scopes of {sorted(unknown)} to METHOD_SCOPES"
    needed = set().union(*(METHOD_SCOPES[m] for m in called))
    assert needed <= scopes, f"manifest lacks {sorted(needed - scopes)}"
    spare = scopes - needed - set(FEATURE_SCOPES)
    assert not spare, f"manifest asks for scopes nothing uses: {sorted(spare)}"


def test_home_tab_enabled_and_app_home_opened_subscribed() -> None:
    data = manifest()
    assert data["features"]["app_home"]["home_tab_enabled"] is True
    assert data["features"]["app_home"]["messages_tab_enabled"] is True  # the DMs
    assert data["settings"]["event_subscriptions"]["bot_events"] == ["app_home_opened"]
    assert "views.publish" in methods_called()  # services/notifier publishes the Home
