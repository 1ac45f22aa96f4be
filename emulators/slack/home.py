"""App Home tabs: the `home` view published for each user (views.publish).

As Slack documents views.publish: `user_id` must name a user of the workspace
(`invalid_arguments`, "invalid `user_id`"); the view must be of type `home` and valid
(at most 100 blocks); a `hash` that is not the one of the view stored now is
`hash_conflict`; with the Home tab switched off in the app's settings it is
`not_enabled`. Each publish replaces the user's Home and gets a new hash.
"""

from __future__ import annotations

import copy
import time
from typing import Any

from emulators.slack.blockkit import fill_ids
from emulators.slack.errors import ApiError
from emulators.slack.ids import IdFactory
from emulators.slack.inspection import Recorder
from emulators.slack.workspace import Workspace

MAX_HOME_HISTORY = 50  # published versions kept per user for inspection


class HomeStore:
    """The Home view each user sees now, and the last versions published."""

    def __init__(self, workspace: Workspace, ids: IdFactory, recorder: Recorder) -> None:
        self._ws = workspace
        self._ids = ids
        self._recorder = recorder
        self.enabled = True
        self.views: dict[str, dict[str, Any]] = {}
        self.history: dict[str, list[dict[str, Any]]] = {}

    def current(self, user_id: str) -> dict[str, Any] | None:
        view = self.views.get(user_id)
        return copy.deepcopy(view) if view else None

    def find(self, view_id: str) -> tuple[str, dict[str, Any]] | None:
        """(user id, view) of a Home view by its id."""
        for user_id, view in self.views.items():
            if view["id"] == view_id:
                return user_id, view
        return None

    def publish(
        self, user_id: Any, payload: dict[str, Any], expected_hash: str | None
    ) -> dict[str, Any]:
        user = self._ws.user(user_id) if isinstance(user_id, str) else None
        if user is None or user.deleted or user.is_bot:
            raise ApiError("invalid_arguments", ["invalid `user_id`"])
        if payload.get("type") != "home":
            raise ApiError("invalid_arguments", ["[ERROR] views.publish only publishes home views"])
        if not self.enabled:
            raise ApiError("not_enabled")
        previous = self.views.get(user_id)
        if expected_hash and (previous is None or expected_hash != previous["hash"]):
            raise ApiError("hash_conflict")
        view_id = previous["id"] if previous else self._ids.slack_id("V")
        view = {
            "id": view_id,
            "team_id": self._ws.team_id,
            "type": "home",
            "close": None,
            "submit": None,
            "blocks": fill_ids(payload.get("blocks") or [], self._ids),
            "private_metadata": payload.get("private_metadata", ""),
            "callback_id": payload.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._ids.view_hash(time.time()),
            "clear_on_close": False,
            "notify_on_close": False,
            "root_view_id": view_id,
            "previous_view_id": None,
            "app_id": self._ws.app_id,
            "external_id": payload.get("external_id", ""),
            "app_installed_team_id": self._ws.team_id,
            "bot_id": self._ws.bot_id,
        }
        self.views[user_id] = view
        kept = self.history.setdefault(user_id, [])
        kept.append(copy.deepcopy(view))
        del kept[:-MAX_HOME_HISTORY]
        self._recorder.event("home_published", user=user_id, view_id=view_id)
        return copy.deepcopy(view)
