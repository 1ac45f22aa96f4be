"""Interaction payloads shaped like real Slack's (see bolt-python's scenario tests)."""

from __future__ import annotations

import copy
import time
from typing import Any

from emulators.slack.blockkit import element_options
from emulators.slack.errors import DriverError
from emulators.slack.inspection import PostedMessage
from emulators.slack.workspace import Workspace

LEGACY_VERIFICATION_TOKEN = "emulated-verification-token"  # noqa: S105 - public, deprecated field

# Which state key each element type reports its value under, in view state and actions.
_SINGLE_OPTION = frozenset({"static_select", "external_select", "radio_buttons", "overflow"})
_MULTI_OPTION = frozenset({"multi_static_select", "multi_external_select", "checkboxes"})
_VALUE_INPUTS = frozenset(
    {"plain_text_input", "email_text_input", "url_text_input", "number_input"}
)
_SIMPLE_KEYS = {
    "users_select": "selected_user",
    "multi_users_select": "selected_users",
    "conversations_select": "selected_conversation",
    "multi_conversations_select": "selected_conversations",
    "channels_select": "selected_channel",
    "multi_channels_select": "selected_channels",
    "datepicker": "selected_date",
    "timepicker": "selected_time",
    "datetimepicker": "selected_date_time",
}
STATEFUL_TYPES = _SINGLE_OPTION | _MULTI_OPTION | _VALUE_INPUTS | frozenset(_SIMPLE_KEYS)


def empty_state(element: dict[str, Any]) -> dict[str, Any]:
    """State of an element the user left empty (Slack sends nulls)."""
    kind = element["type"]
    if kind in _SINGLE_OPTION:
        return {"type": kind, "selected_option": None}
    if kind in _MULTI_OPTION:
        return {"type": kind, "selected_options": []}
    if kind in _VALUE_INPUTS:
        return {"type": kind, "value": None}
    key = _SIMPLE_KEYS[kind]
    return {"type": kind, key: [] if key.endswith("s") else None}


def initial_state(element: dict[str, Any]) -> dict[str, Any] | None:
    """State from the element's initial_* fields, or None when it has none."""
    kind = element["type"]
    if kind in _SINGLE_OPTION and element.get("initial_option"):
        return {"type": kind, "selected_option": copy.deepcopy(element["initial_option"])}
    if kind in _MULTI_OPTION and element.get("initial_options"):
        return {"type": kind, "selected_options": copy.deepcopy(element["initial_options"])}
    if kind in _VALUE_INPUTS and element.get("initial_value") is not None:
        return {"type": kind, "value": str(element["initial_value"])}
    initial_keys = {
        "users_select": "initial_user",
        "multi_users_select": "initial_users",
        "conversations_select": "initial_conversation",
        "multi_conversations_select": "initial_conversations",
        "channels_select": "initial_channel",
        "multi_channels_select": "initial_channels",
        "datepicker": "initial_date",
        "timepicker": "initial_time",
        "datetimepicker": "initial_date_time",
    }
    source = initial_keys.get(kind)
    if source and element.get(source) is not None:
        return {"type": kind, _SIMPLE_KEYS[kind]: copy.deepcopy(element[source])}
    return None


def is_empty(state: dict[str, Any]) -> bool:
    return all(v in (None, "", []) for k, v in state.items() if k != "type")


def chosen_state(
    element: dict[str, Any],
    value: Any,
    workspace: Workspace,
    offered: list[dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """State after the user chose/typed `value` (an option value, user id, text...)."""
    kind = element.get("type")
    if kind in STATEFUL_TYPES and value is None:
        return empty_state(element)  # the person cleared it
    if kind in _VALUE_INPUTS:
        return {"type": kind, "value": str(value)}
    if kind in _SINGLE_OPTION:
        return {"type": kind, "selected_option": _option(element, value, offered)}
    if kind in _MULTI_OPTION:
        values = value if isinstance(value, list) else [value]
        return {"type": kind, "selected_options": [_option(element, v, offered) for v in values]}
    if kind in _SIMPLE_KEYS:
        key = _SIMPLE_KEYS[kind]
        if kind in ("users_select", "multi_users_select"):
            for user_id in value if isinstance(value, list) else [value]:
                if workspace.user(str(user_id)) is None:
                    raise DriverError(f"{user_id!r} is not a user of this workspace")
        if key.endswith("s") and not isinstance(value, list):
            value = [value]
        return {"type": kind, key: value}
    raise DriverError(f"a person cannot choose a value in a {kind} element")


def _option(element: dict[str, Any], value: Any, offered: list[dict[str, Any]] | None) -> Any:
    if element["type"] in ("external_select", "multi_external_select"):
        initial = [element["initial_option"]] if element.get("initial_option") else []
        candidates = [*(offered or []), *initial, *(element.get("initial_options") or [])]
    else:
        candidates = element_options(element)
    for option in candidates:
        if option.get("value") == value:
            return copy.deepcopy(option)
    hint = (
        " (type_in_external_select first: a person can only pick what the app offered)"
        if element["type"].endswith("external_select")
        else ""
    )
    raise DriverError(
        f"{value!r} is not an option of {element['type']} {element.get('action_id')!r}{hint}"
    )


class PayloadBuilder:
    def __init__(self, workspace: Workspace) -> None:
        self._ws = workspace

    def _base(self, kind: str, user_id: str) -> dict[str, Any]:
        return {
            "type": kind,
            "team": self._ws.team_ref(),
            "user": self._ws.user_ref(user_id),
            "api_app_id": self._ws.app_id,
            "token": LEGACY_VERIFICATION_TOKEN,
            "enterprise": None,
            "is_enterprise_install": False,
        }

    def shortcut(self, user_id: str, callback_id: str, trigger_id: str) -> dict[str, Any]:
        payload = self._base("shortcut", user_id)
        payload.update(callback_id=callback_id, trigger_id=trigger_id, action_ts=_now_ts())
        return payload

    def action(
        self, block: dict[str, Any], element: dict[str, Any], state: dict[str, Any] | None
    ) -> dict[str, Any]:
        """One entry of block_actions `actions`."""
        action: dict[str, Any] = {
            "action_id": element.get("action_id"),
            "block_id": block.get("block_id"),
            "type": element.get("type"),
            "action_ts": _now_ts(),
        }
        if element.get("type") == "button":
            action["text"] = copy.deepcopy(element.get("text"))
            if element.get("style"):
                action["style"] = element["style"]
        elif state is not None:
            action.update({k: v for k, v in state.items() if k != "type"})
        if element.get("placeholder"):
            action["placeholder"] = copy.deepcopy(element["placeholder"])
        return action

    def view_block_actions(
        self, user_id: str, view: dict[str, Any], action: dict[str, Any], trigger_id: str
    ) -> dict[str, Any]:
        payload = self._base("block_actions", user_id)
        payload.update(
            container={"type": "view", "view_id": view["id"]},
            trigger_id=trigger_id,
            view=copy.deepcopy(view),
            actions=[action],
        )
        return payload

    def message_block_actions(
        self,
        *,
        user_id: str,
        message: PostedMessage,
        channel_name: str,
        action: dict[str, Any],
        trigger_id: str,
        response_url: str,
    ) -> dict[str, Any]:
        payload = self._base("block_actions", user_id)
        payload.update(
            container={
                "type": "message",
                "message_ts": message.ts,
                "channel_id": message.channel,
                "is_ephemeral": message.is_ephemeral,
            },
            trigger_id=trigger_id,
            channel={"id": message.channel, "name": channel_name},
            state={"values": {}},
            response_url=response_url,
            actions=[action],
        )
        if not message.is_ephemeral:  # Slack leaves the message out for ephemerals
            payload["message"] = message.to_slack(self._ws.team_id)
        return payload

    def block_suggestion(
        self, user_id: str, view: dict[str, Any], block_id: str, action_id: str, query: str
    ) -> dict[str, Any]:
        payload = self._base("block_suggestion", user_id)
        payload.update(
            container={"type": "view", "view_id": view["id"]},
            action_id=action_id,
            block_id=block_id,
            value=query,
            view=copy.deepcopy(view),
        )
        return payload

    def view_submission(
        self, user_id: str, view: dict[str, Any], trigger_id: str
    ) -> dict[str, Any]:
        payload = self._base("view_submission", user_id)
        payload.update(trigger_id=trigger_id, view=copy.deepcopy(view), response_urls=[])
        return payload

    def view_closed(self, user_id: str, view: dict[str, Any], is_cleared: bool) -> dict[str, Any]:
        payload = self._base("view_closed", user_id)
        payload.update(view=copy.deepcopy(view), is_cleared=is_cleared)
        return payload

    def app_home_opened(
        self, user_id: str, channel_id: str, tab: str, view: dict[str, Any] | None, event_id: str
    ) -> dict[str, Any]:
        """The Events API callback for `app_home_opened` (`view` only once one was published)."""
        now = time.time()
        event: dict[str, Any] = {
            "type": "app_home_opened",
            "user": user_id,
            "channel": channel_id,
            "tab": tab,
            "event_ts": f"{now:.6f}",
        }
        if view is not None:
            event["view"] = copy.deepcopy(view)
        return {
            "token": LEGACY_VERIFICATION_TOKEN,
            "team_id": self._ws.team_id,
            "api_app_id": self._ws.app_id,
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(now),
            "authorizations": [
                {
                    "enterprise_id": None,
                    "team_id": self._ws.team_id,
                    "user_id": self._ws.bot_user_id,
                    "is_bot": True,
                    "is_enterprise_install": False,
                }
            ],
            "is_ext_shared_channel": False,
        }


def _now_ts() -> str:
    return f"{time.time():.6f}"
