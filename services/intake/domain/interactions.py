"""Slack interaction payloads, parsed into the few things intake reacts to.

Pure: a payload dict in, one frozen dataclass out. Anything intake does not
handle becomes `Ignored` with the reason, so the transport still acks it.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from shared.slack_ids import ActionId, CallbackId

StateValues = dict[str, dict[str, dict[str, Any]]]
"""A view's `state.values`: block_id -> action_id -> element state."""


@dataclass(frozen=True, slots=True)
class ShortcutPressed:
    """The global `request_access` shortcut, or the Home tab's "Request access" button."""

    user_id: str
    trigger_id: str


@dataclass(frozen=True, slots=True)
class ProfileChosen:
    """The requester picked a profile in the open request modal."""

    user_id: str
    view_id: str
    view_hash: str | None
    private_metadata: str
    profile_id: str


@dataclass(frozen=True, slots=True)
class DeviceSuggestion:
    """The device picker asks for options (the requester typed, or opened it)."""

    user_id: str
    query: str
    private_metadata: str


@dataclass(frozen=True, slots=True)
class ProfileSuggestion:
    """The profile picker asks for options (only when there are too many to list)."""

    user_id: str
    query: str
    private_metadata: str


@dataclass(frozen=True, slots=True)
class ApproverSuggestion:
    """The approver search asks for options (only with more approvers than radio buttons)."""

    user_id: str
    query: str
    private_metadata: str


@dataclass(frozen=True, slots=True)
class ViewSubmitted:
    """A modal of ours was submitted."""

    user_id: str
    callback_id: CallbackId
    view_id: str
    private_metadata: str
    values: StateValues


@dataclass(frozen=True, slots=True)
class ButtonPressed:
    """A button on a message the notifier posted, or on the Home tab it published (a view:
    no channel, `channel_id` None)."""

    user_id: str
    action_id: ActionId
    value: str
    action_ts: str
    trigger_id: str
    channel_id: str | None


@dataclass(frozen=True, slots=True)
class HomeOpened:
    """`app_home_opened` (Events API): the person opened the app's Home or Messages tab."""

    user_id: str
    tab: str
    event_id: str
    event_ts: str


@dataclass(frozen=True, slots=True)
class Ignored:
    """Something intake does not act on (acked all the same)."""

    kind: str
    reason: str


Interaction = (
    ShortcutPressed
    | ProfileChosen
    | DeviceSuggestion
    | ProfileSuggestion
    | ApproverSuggestion
    | ViewSubmitted
    | ButtonPressed
    | HomeOpened
    | Ignored
)
Suggestion = DeviceSuggestion | ProfileSuggestion | ApproverSuggestion

MESSAGE_BUTTONS = frozenset(
    {
        ActionId.APPROVE,
        ActionId.DENY,
        ActionId.REVOKE,
        ActionId.EXTEND,
        ActionId.CANCEL,
        ActionId.REQUEST_AGAIN,
    }
)
SUBMITTED_MODALS = frozenset(
    {
        CallbackId.REQUEST_MODAL,
        CallbackId.DENY_MODAL,
        CallbackId.REVOKE_MODAL,
        CallbackId.EXTEND_MODAL,
    }
)


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _user_id(payload: dict[str, Any]) -> str:
    return _str(_dict(payload.get("user")).get("id"))


def _shortcut(payload: dict[str, Any]) -> Interaction:
    callback_id = _str(payload.get("callback_id"))
    if callback_id != CallbackId.REQUEST_SHORTCUT:
        return Ignored("shortcut", f"unknown callback_id {callback_id!r}")
    return ShortcutPressed(user_id=_user_id(payload), trigger_id=_str(payload.get("trigger_id")))


def _block_actions(payload: dict[str, Any]) -> Interaction:
    actions = payload.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], dict):
        return Ignored("block_actions", "no action")
    action = actions[0]
    action_id = _str(action.get("action_id"))
    view = _dict(payload.get("view"))
    if action_id == ActionId.PROFILE_SELECT and view:
        selected = _str(_dict(action.get("selected_option")).get("value"))
        if not selected:
            return Ignored("block_actions", "profile cleared")
        return ProfileChosen(
            user_id=_user_id(payload),
            view_id=_str(view.get("id")),
            view_hash=_str(view.get("hash")) or None,
            private_metadata=_str(view.get("private_metadata")),
            profile_id=selected,
        )
    if action_id == ActionId.HOME_REQUEST:  # the Home tab's "Request access": the shortcut's form
        return ShortcutPressed(
            user_id=_user_id(payload), trigger_id=_str(payload.get("trigger_id"))
        )
    if action_id in MESSAGE_BUTTONS:
        container = _dict(payload.get("container"))
        channel = _str(container.get("channel_id")) or _str(_dict(payload.get("channel")).get("id"))
        return ButtonPressed(
            user_id=_user_id(payload),
            action_id=ActionId(action_id),
            value=_str(action.get("value")),
            action_ts=_str(action.get("action_ts")),
            trigger_id=_str(payload.get("trigger_id")),
            channel_id=channel or None,
        )
    return Ignored("block_actions", f"no handler for action {action_id!r}")


def _block_suggestion(payload: dict[str, Any]) -> Interaction:
    action_id = _str(payload.get("action_id"))
    kinds: dict[str, type[Suggestion]] = {
        ActionId.DEVICE_SELECT.value: DeviceSuggestion,
        ActionId.PROFILE_SELECT.value: ProfileSuggestion,
        ActionId.APPROVER_SELECT.value: ApproverSuggestion,
    }
    kind = kinds.get(action_id)
    if kind is None:
        return Ignored("block_suggestion", f"no options for {action_id!r}")
    view = _dict(payload.get("view"))
    return kind(
        user_id=_user_id(payload),
        query=_str(payload.get("value")),
        private_metadata=_str(view.get("private_metadata")),
    )


def _view_submission(payload: dict[str, Any]) -> Interaction:
    view = _dict(payload.get("view"))
    callback_id = _str(view.get("callback_id"))
    if callback_id not in SUBMITTED_MODALS:
        return Ignored("view_submission", f"unknown callback_id {callback_id!r}")
    values = _dict(_dict(view.get("state")).get("values"))
    return ViewSubmitted(
        user_id=_user_id(payload),
        callback_id=CallbackId(callback_id),
        view_id=_str(view.get("id")),
        private_metadata=_str(view.get("private_metadata")),
        values={k: v for k, v in values.items() if isinstance(v, dict)},
    )


def _event_callback(payload: dict[str, Any]) -> Interaction:
    event = _dict(payload.get("event"))
    kind = _str(event.get("type"))
    if kind != "app_home_opened":
        return Ignored("event_callback", f"event {kind!r} not subscribed")
    return HomeOpened(
        user_id=_str(event.get("user")),
        tab=_str(event.get("tab")),
        event_id=_str(payload.get("event_id")),
        event_ts=_str(event.get("event_ts")),
    )


_PARSERS = {
    "shortcut": _shortcut,
    "block_actions": _block_actions,
    "block_suggestion": _block_suggestion,
    "view_submission": _view_submission,
    "event_callback": _event_callback,
}


def parse_interaction(payload: dict[str, Any]) -> Interaction:
    """What this payload asks of intake."""
    kind = _str(payload.get("type"))
    parser = _PARSERS.get(kind)
    if parser is None:
        return Ignored(kind or "unknown", "interaction type not handled")
    return parser(payload)


def delivery_key(payload: dict[str, Any]) -> str:
    """Identifies one delivery: only a byte-identical repeat carries the same payload."""
    canonical = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()
