"""What people do in Slack, scripted through the Slack emulator's driver.

Shared by the end-to-end tests, the benchmarks and `accessbot demo`: a requester
fills in the request form; an approver presses a button on the message the
notifier posted. Everything goes through the emulator exactly as Slack would
deliver it, so intake sees real payloads.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from typing import Any

from emulators.slack import PostedMessage, SlackEmulator
from shared.slack_ids import ANY_APPROVER, ActionId, ButtonValue, CallbackId

VIEW_TIMEOUT = 5.0


def _elements(blocks: list[dict[str, Any]]) -> Iterator[dict[str, Any]]:
    for block in blocks:
        yield from block.get("elements") or []
        accessory = block.get("accessory")
        if accessory:
            yield accessory
        element = block.get("element")
        if element:
            yield element


def _has_action(view: dict[str, Any], action_id: str) -> bool:
    return any(e.get("action_id") == action_id for e in _elements(view["blocks"]))


def _first_option(view: dict[str, Any], action_id: str) -> str:
    for element in _elements(view["blocks"]):
        if element.get("action_id") == action_id:
            options = element.get("options") or []
            if options:
                return str(options[0]["value"])
    raise LookupError(f"no options for {action_id} in the open view")


def _approver_option(view: dict[str, Any], email: str) -> str:
    """The approver radio option showing `email` (as its label or under the name)."""
    for element in _elements(view["blocks"]):
        if element.get("action_id") != ActionId.APPROVER_RADIO:
            continue
        found = _option_showing(element.get("options") or [], email)
        if found is not None:
            return found
    raise LookupError(f"{email} is not offered as approver in the open view")


def _option_showing(options: list[dict[str, Any]], email: str) -> str | None:
    """The value of the approver option showing `email` as its label or at the end of its
    description ("Sat 14:05 local time · alice@example.com")."""
    for option in options:
        description = str((option.get("description") or {}).get("text", ""))
        if email in (option["text"]["text"], description) or description.endswith(f" · {email}"):
            return str(option["value"])
    return None


async def _search_approver(slack: SlackEmulator, user_id: str, email: str) -> str:
    """Type `email` into the approver search (many approvers) and take what it offers."""
    answer = await slack.driver.type_in_external_select(user_id, ActionId.APPROVER_SELECT, email)
    found = _option_showing(list(answer.get("options") or []), email)
    if found is None:
        raise LookupError(f"{email} is not offered by the approver search")
    return found


async def file_request(
    slack: SlackEmulator,
    user_id: str,
    *,
    profile_id: str,
    reason: str,
    device_query: str = "",
    device_id: str | None = None,
    duration_seconds: int | None = None,
    approver_email: str | None = None,
    pace: float = 0.0,
) -> dict[str, Any] | None:
    """Press the shortcut, fill the form and submit it; returns the submission ack.

    `pace`: seconds to wait with the modal open and before submitting (someone watches).

    `device_id` None picks the first device the search offers; `duration_seconds`
    None the first preset; `approver_email` None "any eligible approver" (where offered).
    """
    driver = slack.driver
    await driver.press_shortcut(user_id, CallbackId.REQUEST_SHORTCUT)
    view = await driver.wait_for_view(
        user_id, callback_id=CallbackId.REQUEST_MODAL, timeout=VIEW_TIMEOUT
    )
    await asyncio.sleep(pace)
    await driver.select(user_id, ActionId.PROFILE_SELECT, profile_id)
    view = await driver.wait_for_view(user_id, newer_than=view, timeout=VIEW_TIMEOUT)
    await asyncio.sleep(pace)
    if device_id is None:
        answer = await driver.type_in_external_select(user_id, ActionId.DEVICE_SELECT, device_query)
        groups = (answer or {}).get("option_groups") or [{"options": (answer or {}).get("options")}]
        offered = [o for g in groups for o in (g.get("options") or [])]
        if not offered:
            raise LookupError(f"no device offered to {user_id} for {device_query!r}")
        device_id = str(offered[0]["value"])
    values: dict[str, Any] = {
        ActionId.DEVICE_SELECT: device_id,
        ActionId.DURATION_SELECT: str(duration_seconds)
        if duration_seconds is not None
        else _first_option(view, ActionId.DURATION_SELECT),
        ActionId.REASON_INPUT: reason,
    }
    if _has_action(view, ActionId.APPROVER_RADIO):
        values[ActionId.APPROVER_RADIO] = (
            _approver_option(view, approver_email) if approver_email else ANY_APPROVER
        )
    elif approver_email and _has_action(view, ActionId.APPROVER_SELECT):
        values[ActionId.APPROVER_SELECT] = await _search_approver(slack, user_id, approver_email)
    return await driver.submit_view(user_id, values=values)


def find_button(
    messages: list[PostedMessage], action_id: str, request_id: str
) -> PostedMessage | None:
    """The newest message holding `action_id` for `request_id`."""
    for message in reversed(messages):
        for element in _elements(message.blocks):
            if element.get("action_id") != action_id or "value" not in element:
                continue
            try:
                value = ButtonValue.decode(str(element["value"]))
            except ValueError:
                continue
            if value.request_id == request_id:
                return message
    return None


async def press_in_dm(
    slack: SlackEmulator,
    user_id: str,
    action_id: str,
    request_id: str,
    *,
    timeout: float = 20.0,
) -> dict[str, Any] | None:
    """Wait for the button in `user_id`'s DM about `request_id`, then press it."""
    deadline = time.monotonic() + timeout
    while True:
        message = find_button(slack.dms(user_id), action_id, request_id)
        if message is not None:
            return await slack.driver.press_button(user_id, message.channel, message.ts, action_id)
        if time.monotonic() > deadline:
            raise TimeoutError(f"no {action_id} button for {request_id} in {user_id}'s DMs")
        await asyncio.sleep(0.05)


def dm_text(slack: SlackEmulator, user_id: str) -> str:
    """Everything currently shown in a person's DMs, as plain text (for assertions)."""
    parts: list[str] = []
    for message in slack.dms(user_id):
        parts.append(message.text)
        parts.extend(_block_text(message.blocks))
    return "\n".join(parts)


def _block_text(blocks: list[dict[str, Any]]) -> Iterator[str]:
    for block in blocks:
        text = block.get("text")
        if isinstance(text, dict):
            yield str(text.get("text", ""))
        for item in (block.get("fields") or []) + (block.get("elements") or []):
            if isinstance(item, dict) and isinstance(item.get("text"), str):
                yield item["text"]
