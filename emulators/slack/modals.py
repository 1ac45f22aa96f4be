"""Modal views per user (a stack of at most three) and the trigger ids that open them."""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from emulators.slack.blockkit import fill_ids, iter_elements
from emulators.slack.errors import ApiError
from emulators.slack.ids import IdFactory
from emulators.slack.inspection import Recorder
from emulators.slack.workspace import Workspace

MAX_STACK = 3  # the opened view plus at most two pushes


@dataclass
class Trigger:
    id: str
    user_id: str
    issued_at: float
    source: str
    view_id: str | None
    used: bool = False


class TriggerStore:
    """trigger_ids: valid `ttl` seconds, exchangeable once."""

    def __init__(
        self, ids: IdFactory, ttl: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._ids = ids
        self.ttl = ttl
        self._clock = clock
        self._triggers: dict[str, Trigger] = {}

    def issue(self, user_id: str, source: str, view_id: str | None = None) -> str:
        trigger_id = self._ids.trigger_id(time.time())
        self._triggers[trigger_id] = Trigger(
            trigger_id, user_id, self._clock(), source=source, view_id=view_id
        )
        return trigger_id

    def exchange(self, trigger_id: Any) -> Trigger:
        if not isinstance(trigger_id, str) or not trigger_id:
            raise ApiError("invalid_arguments", ["missing required field: trigger_id"])
        trigger = self._triggers.get(trigger_id)
        if trigger is None:
            raise ApiError("invalid_trigger_id")
        if trigger.used:
            raise ApiError("exchanged_trigger_id")
        if self._clock() - trigger.issued_at > self.ttl:
            raise ApiError("expired_trigger_id")
        trigger.used = True
        return trigger


class ModalStore:
    """Every view by id, each user's modal stack, and the history of what the user saw."""

    def __init__(self, workspace: Workspace, ids: IdFactory, recorder: Recorder) -> None:
        self._ws = workspace
        self._ids = ids
        self._recorder = recorder
        self.views: dict[str, dict[str, Any]] = {}
        self.owner: dict[str, str] = {}
        self.stacks: dict[str, list[str]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}

    # -- reading ------------------------------------------------------------

    def current(self, user_id: str) -> dict[str, Any] | None:
        stack = self.stacks.get(user_id)
        return self.views[stack[-1]] if stack else None

    def is_open(self, view_id: str) -> bool:
        user_id = self.owner.get(view_id)
        return user_id is not None and view_id in self.stacks.get(user_id, [])

    def find(self, view_id: str | None, external_id: str | None) -> dict[str, Any]:
        if view_id:
            view = self.views.get(view_id)
        elif external_id:
            view = next((v for v in self.views.values() if v["external_id"] == external_id), None)
        else:
            raise ApiError("invalid_arguments", ["view_id or external_id is required"])
        if view is None or not self.is_open(view["id"]):
            raise ApiError("not_found")
        return view

    # -- changing -------------------------------------------------------------

    def open(self, user_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        """A new stack with this view at the root (replacing whatever was open)."""
        self._check_external_id(payload)
        view_id = self._ids.slack_id("V")
        view = self._materialize(payload, view_id, root_view_id=view_id, previous_view_id=None)
        self.stacks[user_id] = [view_id]
        return self._store(user_id, view, "view_opened")

    def push(self, user_id: str, payload: dict[str, Any]) -> dict[str, Any]:
        stack = self.stacks.get(user_id)
        if not stack:
            raise ApiError("not_found", ["no modal is open for this user to push onto"])
        if len(stack) >= MAX_STACK:
            raise ApiError("push_limit_reached")
        self._check_external_id(payload)
        view_id = self._ids.slack_id("V")
        view = self._materialize(
            payload, view_id, root_view_id=stack[0], previous_view_id=stack[-1]
        )
        stack.append(view_id)
        return self._store(user_id, view, "view_pushed")

    def update(
        self, view: dict[str, Any], payload: dict[str, Any], expected_hash: str | None
    ) -> dict[str, Any]:
        if expected_hash and expected_hash != view["hash"]:
            raise ApiError("hash_conflict")
        external_id = payload.get("external_id")
        if external_id and external_id != view["external_id"]:
            self._check_external_id(payload)
        updated = self._materialize(
            payload,
            view["id"],
            root_view_id=view["root_view_id"],
            previous_view_id=view["previous_view_id"],
        )
        updated["external_id"] = external_id or view["external_id"]
        updated["state"] = {"values": _carry_state(view, updated)}
        return self._store(self.owner[view["id"]], updated, "view_updated")

    def pop(self, user_id: str) -> dict[str, Any] | None:
        stack = self.stacks.get(user_id)
        if not stack:
            return None
        view = self.views[stack.pop()]
        self._recorder.event("view_closed", user=user_id, view_id=view["id"])
        return view

    def clear(self, user_id: str) -> None:
        for view_id in reversed(self.stacks.pop(user_id, [])):
            self._recorder.event("view_closed", user=user_id, view_id=view_id)

    def set_state(self, view_id: str, block_id: str, action_id: str, value: dict[str, Any]) -> None:
        values = self.views[view_id]["state"]["values"]
        values.setdefault(block_id, {})[action_id] = value

    # -- helpers ---------------------------------------------------------------

    def _check_external_id(self, payload: dict[str, Any]) -> None:
        external_id = payload.get("external_id")
        if external_id and any(
            v["external_id"] == external_id and self.is_open(v["id"]) for v in self.views.values()
        ):
            raise ApiError("duplicate_external_id")

    def _materialize(
        self,
        payload: dict[str, Any],
        view_id: str,
        *,
        root_view_id: str,
        previous_view_id: str | None,
    ) -> dict[str, Any]:
        """The full view object Slack returns and later sends back in payloads."""
        return {
            "id": view_id,
            "team_id": self._ws.team_id,
            "type": payload.get("type", "modal"),
            "blocks": fill_ids(payload.get("blocks") or [], self._ids),
            "private_metadata": payload.get("private_metadata", ""),
            "callback_id": payload.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._ids.view_hash(time.time()),
            "title": copy.deepcopy(payload.get("title")),
            "clear_on_close": bool(payload.get("clear_on_close", False)),
            "notify_on_close": bool(payload.get("notify_on_close", False)),
            "close": copy.deepcopy(payload.get("close")),
            "submit": copy.deepcopy(payload.get("submit")),
            "previous_view_id": previous_view_id,
            "root_view_id": root_view_id,
            "app_id": self._ws.app_id,
            "external_id": payload.get("external_id", ""),
            "app_installed_team_id": self._ws.team_id,
            "bot_id": self._ws.bot_id,
        }

    def _store(self, user_id: str, view: dict[str, Any], event: str) -> dict[str, Any]:
        self.views[view["id"]] = view
        self.owner[view["id"]] = user_id
        self.history.setdefault(user_id, []).append(copy.deepcopy(view))
        self._recorder.event(
            event, user=user_id, view_id=view["id"], callback_id=view["callback_id"]
        )
        return view


def _carry_state(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """What the user entered survives an update where the same block_id/action_id remains."""
    kept: dict[str, Any] = {}
    old_values = old["state"]["values"]
    for block, element in iter_elements(new["blocks"]):
        value = old_values.get(block.get("block_id"), {}).get(element.get("action_id"))
        if value is not None:
            kept.setdefault(block["block_id"], {})[element["action_id"]] = value
    return kept
