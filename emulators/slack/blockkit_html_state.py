"""What a person already entered in a view, shown instead of the elements' initial values.

Slack keeps a view's `state.values` (block_id -> action_id -> value) across
views.update; the emulator stores it in the same shape. Rendering a view from it turns
each value back into the element's `initial_*` field, so the renderer has one way to
show a chosen value. Pure: stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

_INITIAL_KEYS = (
    "initial_option", "initial_options", "initial_value", "initial_user", "initial_users",
    "initial_conversation", "initial_conversations", "initial_channel", "initial_channels",
    "initial_date", "initial_time", "initial_date_time",
)  # fmt: skip


def _initial_key(state_key: str) -> str:
    """`selected_option` -> `initial_option`, `value` -> `initial_value`, ..."""
    return "initial_" + state_key.removeprefix("selected_")


def with_state(element: Mapping[str, Any], state: Any) -> Mapping[str, Any]:
    """The element as it looks holding `state` (one entry of state.values); unchanged without."""
    if not isinstance(state, Mapping):
        return element
    shown = {k: v for k, v in element.items() if k not in _INITIAL_KEYS}
    for key, value in state.items():
        if key != "type" and value not in (None, "", []):
            shown[_initial_key(key)] = value
    return shown


def apply_state(blocks: Any, values: Any) -> Any:
    """Copy of `blocks` whose input, section-accessory and actions elements show `values`."""
    if not isinstance(values, Mapping) or not values or not isinstance(blocks, list):
        return blocks
    return [_block_with_state(block, values) for block in blocks]


def _block_with_state(block: Any, values: Mapping[str, Any]) -> Any:
    block_id = block.get("block_id") if isinstance(block, Mapping) else None
    by_action = values.get(block_id) if isinstance(block_id, str) else None
    if not isinstance(by_action, Mapping):
        return block

    def shown(element: Any) -> Any:
        action_id = element.get("action_id") if isinstance(element, Mapping) else None
        if not isinstance(action_id, str):
            return element
        return with_state(element, by_action.get(action_id))

    copied = dict(block)
    for key in ("element", "accessory"):
        if key in copied:
            copied[key] = shown(copied[key])
    if isinstance(copied.get("elements"), list) and copied.get("type") == "actions":
        copied["elements"] = [shown(e) for e in copied["elements"]]
    return copied
