""" "Play the demo": the scripted request of `accessbot demo`, clicked through the Slack
emulator's driver of the running sandbox so the console shows it as it happens.

Dana asks for Production on her first device; the first approver whose DM shows the
request approves it. Each step waits a bounded time for what the app shows next.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from shared.slack_ids import ANY_APPROVER, ActionId, ButtonValue, CallbackId

STEP_TIMEOUT = 20.0
POLL_SECONDS = 0.2
REQUESTER = "U_DANA"
APPROVERS = ("U_ALICE", "U_BOB")
PROFILE = "prod"
REASON = "Demo: investigating INC-4211"

Slack = Callable[[str, str, Any], Awaitable[tuple[int, Any]]]
Say = Callable[[str], None]


class DemoError(RuntimeError):
    """A step did not happen in time or was refused; the message says which."""


async def _until(what: str, check: Callable[[], Awaitable[Any]]) -> Any:
    deadline = time.monotonic() + STEP_TIMEOUT
    while time.monotonic() < deadline:
        found = await check()
        if found:
            return found
        await asyncio.sleep(POLL_SECONDS)
    raise DemoError(f"not within {STEP_TIMEOUT:.0f}s: {what}")


async def _do(slack: Slack, action: str, body: dict[str, Any]) -> Any:
    status, answer = await slack("POST", f"driver/{action}", body)
    if status != 200:
        error = answer.get("error") if isinstance(answer, dict) else answer
        raise DemoError(f"{action} refused: {error}")
    return answer


def _element(view: dict[str, Any], action_id: str) -> dict[str, Any] | None:
    for block in view.get("blocks", []):
        for element in [block.get("element"), block.get("accessory"), *block.get("elements", [])]:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def _approve_button(messages: Any, request_ids: set[str]) -> dict[str, Any] | None:
    """The newest DM with an Approve button for a request not seen before the demo."""
    for message in reversed(messages if isinstance(messages, list) else []):
        for block in message.get("blocks", []):
            for element in block.get("elements", []) or []:
                if element.get("action_id") != ActionId.APPROVE:
                    continue
                try:
                    request_id = ButtonValue.decode(str(element.get("value"))).request_id
                except ValueError:
                    continue
                if request_id not in request_ids and isinstance(message, dict):
                    return dict(message)
    return None


async def play(slack: Slack, say: Say) -> None:
    """Run the demo; DemoError on a step that fails."""
    seen: set[str] = set()
    for approver in APPROVERS:  # requests already in the approvers' DMs are not the demo's
        _, messages = await slack("GET", f"dms/{approver}", None)
        while (found := _approve_button(messages, seen)) is not None:
            seen.update(_request_ids(found))
    me = {"user_id": REQUESTER}
    say("Dana presses Request access")
    await _do(slack, "shortcut", me | {"callback_id": CallbackId.REQUEST_SHORTCUT})

    async def open_view() -> Any:
        _, view = await slack("GET", f"current-view/{REQUESTER}", None)
        return view if isinstance(view, dict) else None

    view = await _until("the request form", open_view)
    say("Dana chooses Production")
    await _do(slack, "select", me | {"action_id": ActionId.PROFILE_SELECT, "value": PROFILE})

    async def device_field() -> Any:
        current = await open_view()
        return current if current and _element(current, ActionId.DEVICE_SELECT) else None

    view = await _until("the device field", device_field)
    answer = await _do(slack, "type", me | {"action_id": ActionId.DEVICE_SELECT, "query": ""})
    groups = answer.get("option_groups") or [{"options": answer.get("options") or []}]
    options = [o for g in groups for o in g.get("options") or []]
    if not options:
        raise DemoError("no device offered to Dana")
    durations = (_element(view, ActionId.DURATION_SELECT) or {}).get("options") or []
    values = {
        ActionId.DEVICE_SELECT.value: options[0]["value"],
        ActionId.REASON_INPUT.value: REASON,
    }
    if durations:
        values[ActionId.DURATION_SELECT.value] = durations[0]["value"]
    if _element(view, ActionId.APPROVER_RADIO):
        values[ActionId.APPROVER_RADIO.value] = ANY_APPROVER
    say(f"Dana asks for Production on {options[0]['text']['text'].split(' ')[0]}")
    ack = await _do(slack, "submit", me | {"values": values})
    if isinstance(ack, dict) and ack.get("response_action") == "errors":
        raise DemoError(f"the form was refused: {ack.get('errors')}")

    async def asked() -> Any:
        for approver in APPROVERS:
            _, messages = await slack("GET", f"dms/{approver}", None)
            message = _approve_button(messages, seen)
            if message is not None:
                return approver, message
        return None

    approver, message = await _until("an approver is asked", asked)
    say(f"{approver.removeprefix('U_').title()} presses Approve")
    await _do(
        slack,
        "button",
        {
            "user_id": approver,
            "channel_id": message["channel"],
            "ts": message["ts"],
            "action_id": ActionId.APPROVE,
        },
    )
    say("Approved: watch the attribute appear in the tailnet pane")


def _request_ids(message: dict[str, Any]) -> set[str]:
    found = set()
    for block in message.get("blocks", []):
        for element in block.get("elements", []) or []:
            try:
                found.add(ButtonValue.decode(str(element.get("value"))).request_id)
            except ValueError:
                continue
    return found
