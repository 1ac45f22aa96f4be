"""Reading what the user entered from a submitted view's `state.values`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.intake.domain.interactions import StateValues
from shared.slack_ids import ActionId


def _element(values: StateValues, action_id: ActionId) -> dict[str, Any]:
    """The element state for an action id, whichever block holds it."""
    for block in values.values():
        state = block.get(action_id.value)
        if isinstance(state, dict):
            return state
    return {}


def selected_value(values: StateValues, action_id: ActionId) -> str | None:
    """The value of a select's or radio group's chosen option."""
    option = _element(values, action_id).get("selected_option")
    if isinstance(option, dict) and isinstance(option.get("value"), str):
        return str(option["value"])
    return None


def selected_user(values: StateValues, action_id: ActionId) -> str | None:
    """The Slack user id chosen in a users_select."""
    user = _element(values, action_id).get("selected_user")
    return user if isinstance(user, str) and user else None


def text_value(values: StateValues, action_id: ActionId) -> str:
    """A text input's value ('' when empty)."""
    value = _element(values, action_id).get("value")
    return value if isinstance(value, str) else ""


@dataclass(frozen=True, slots=True)
class RequestFormState:
    """The request modal's fields as submitted (not yet validated)."""

    profile_id: str | None
    device_id: str | None
    duration: str | None
    # a radio or searchable select option's value (an approver digest) or ANY_APPROVER
    approver_choice: str | None
    approver_user_id: str | None  # a Slack user (users_select of a form opened before upgrade)
    reason: str

    @classmethod
    def read(cls, values: StateValues) -> RequestFormState:
        """Pick the request modal's fields out of `state.values`."""
        return cls(
            profile_id=selected_value(values, ActionId.PROFILE_SELECT),
            device_id=selected_value(values, ActionId.DEVICE_SELECT),
            duration=selected_value(values, ActionId.DURATION_SELECT),
            approver_choice=selected_value(values, ActionId.APPROVER_RADIO)
            or selected_value(values, ActionId.APPROVER_SELECT),
            approver_user_id=selected_user(values, ActionId.APPROVER_USER),
            reason=text_value(values, ActionId.REASON_INPUT),
        )
