"""Simulated people: build payloads from what the app really showed them, deliver, react.

Each action waits for the app's ack and returns it (a dict, or None for an empty ack).
What real Slack's client would stop a person from doing raises DriverError; an ack
Slack would reject is recorded in `emu.violations` and raises AppResponseError.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from emulators.slack.blockkit import (
    find_element,
    iter_elements,
    validate_options_response,
    validate_view,
)
from emulators.slack.delivery import Deliverer
from emulators.slack.errors import ApiError, AppResponseError, DriverError
from emulators.slack.inspection import Violation
from emulators.slack.payloads import (
    STATEFUL_TYPES,
    PayloadBuilder,
    chosen_state,
    empty_state,
    initial_state,
    is_empty,
)
from emulators.slack.state import EmulatorState

_SELECTABLE = STATEFUL_TYPES - {
    "plain_text_input",
    "email_text_input",
    "url_text_input",
    "number_input",
}


class Driver:
    def __init__(
        self, state: EmulatorState, deliverer: Deliverer, response_url_for: Callable[[str], str]
    ) -> None:
        self._state = state
        self._ws = state.workspace
        self._deliverer = deliverer
        self._payloads = PayloadBuilder(state.workspace)
        self._response_url_for = response_url_for
        # (view_id, action_id) -> options the app last offered in a block_suggestion answer
        self._offered: dict[tuple[str, str], list[dict[str, Any]]] = {}

    # -- reading what the person sees ---------------------------------------------------

    def current_view(self, user_id: str) -> dict[str, Any] | None:
        """The modal on top of this user's stack (a copy), or None."""
        view = self._state.modals.current(user_id)
        return copy.deepcopy(view) if view else None

    async def wait_for_view(
        self,
        user_id: str,
        *,
        newer_than: dict[str, Any] | None = None,
        callback_id: str | None = None,
        timeout: float = 2.0,
    ) -> dict[str, Any]:
        """Wait until the app has opened/updated a view for the user (acks come first,
        views.open/update usually right after)."""

        def ready() -> dict[str, Any] | None:
            view = self._state.modals.current(user_id)
            if view is None:
                return None
            if newer_than is not None and (view["id"], view["hash"]) == (
                newer_than.get("id"),
                newer_than.get("hash"),
            ):
                return None
            if callback_id is not None and view["callback_id"] != callback_id:
                return None
            return view

        return copy.deepcopy(await self._state.recorder.wait_for(ready, timeout))

    # -- actions ------------------------------------------------------------------------

    async def press_shortcut(self, user_id: str, callback_id: str) -> dict[str, Any] | None:
        """A global shortcut: a fresh trigger_id, no channel."""
        self._person(user_id)
        trigger_id = self._state.triggers.issue(user_id, "shortcut")
        self._state.recorder.event(
            "user_action", action="shortcut", user=user_id, callback_id=callback_id
        )
        payload = self._payloads.shortcut(user_id, callback_id, trigger_id)
        return (await self._deliverer.deliver(payload)).ack

    async def select(self, user_id: str, action_id: str, value: Any) -> dict[str, Any] | None:
        """Choose in a select/radio/checkbox/picker of the open view.

        The view state changes like Slack's; a block_actions payload goes out only where
        Slack sends one (actions blocks, section accessories, inputs with dispatch_action).
        Returns None without delivering otherwise.
        """
        view, block, element = self._view_element(user_id, action_id)
        if element.get("type") not in _SELECTABLE:
            raise DriverError(
                f"{element.get('type')} {action_id!r} is not something one selects in"
            )
        offered = self._offered.get((view["id"], action_id))
        state = chosen_state(element, value, self._ws, offered)
        self._state.modals.set_state(view["id"], block["block_id"], action_id, state)
        self._state.recorder.event(
            "user_action", action="select", user=user_id, action_id=action_id, value=value
        )
        if block.get("type") == "input" and not block.get("dispatch_action"):
            return None
        return await self._view_action(user_id, block, element, state)

    async def press_view_button(self, user_id: str, action_id: str) -> dict[str, Any] | None:
        """A button inside the open modal (block_actions, container type view)."""
        _, block, element = self._view_element(user_id, action_id)
        if element.get("type") != "button":
            raise DriverError(f"{action_id!r} is a {element.get('type')}, not a button")
        self._state.recorder.event(
            "user_action", action="view_button", user=user_id, action_id=action_id
        )
        return await self._view_action(user_id, block, element, None)

    async def _view_action(
        self,
        user_id: str,
        block: dict[str, Any],
        element: dict[str, Any],
        state: dict[str, Any] | None,
    ) -> dict[str, Any] | None:
        view = self._open_view(user_id)
        trigger_id = self._state.triggers.issue(user_id, "block_actions", view["id"])
        action = self._payloads.action(block, element, state)
        if element.get("type") == "button" and "value" in element:
            action["value"] = element["value"]
        payload = self._payloads.view_block_actions(user_id, view, action, trigger_id)
        return (await self._deliverer.deliver(payload)).ack

    async def type_in_external_select(
        self, user_id: str, action_id: str, query: str
    ) -> dict[str, Any]:
        """Type into an external select: block_suggestion; returns the app's options answer."""
        view, block, element = self._view_element(user_id, action_id)
        if element.get("type") not in ("external_select", "multi_external_select"):
            raise DriverError(f"{action_id!r} is a {element.get('type')}, not an external select")
        min_length = element.get("min_query_length", 3)
        if len(query) < min_length:
            raise DriverError(
                f"Slack sends no block_suggestion for fewer than {min_length} typed characters "
                "(min_query_length; set it to 0 to list options at once)"
            )
        self._state.recorder.event(
            "user_action", action="type", user=user_id, action_id=action_id, query=query
        )
        payload = self._payloads.block_suggestion(
            user_id, view, block["block_id"], action_id, query
        )
        answer = (await self._deliverer.deliver(payload)).ack
        errors = validate_options_response(answer)
        if errors:
            raise AppResponseError(
                [self._violation("invalid_suggestion_options", f"{action_id}: {e}") for e in errors]
            )
        assert answer is not None  # validate_options_response rejects None
        options = answer.get("options")
        if options is None:
            options = [o for g in answer["option_groups"] for o in g.get("options", [])]
        self._offered[(view["id"], action_id)] = copy.deepcopy(options)
        return answer

    async def submit_view(
        self, user_id: str, values: dict[str, Any] | None = None
    ) -> dict[str, Any] | None:
        """Press Submit. `values` maps action_id -> text / option value / user id (lists for
        multi-selects); other inputs keep what was selected before or their initial value.
        Applies the ack's response_action like Slack; returns the ack."""
        view = self._open_view(user_id)
        if view.get("submit") is None:
            raise DriverError("this view has no submit button")
        values = dict(values or {})
        known = {
            element.get("action_id")
            for _, element in iter_elements(view["blocks"])
            if element.get("type") in STATEFUL_TYPES
        }
        unknown = sorted(set(values) - known)
        if unknown:
            raise DriverError(f"no input with action_id {unknown} in the open view")
        state_values = self._submission_state(view, values)
        view["state"]["values"] = state_values
        trigger_id = self._state.triggers.issue(user_id, "view_submission", view["id"])
        self._state.recorder.event(
            "user_action",
            action="submit",
            user=user_id,
            view_id=view["id"],
            callback_id=view["callback_id"],
        )
        payload = self._payloads.view_submission(user_id, view, trigger_id)
        ack = (await self._deliverer.deliver(payload)).ack
        self._apply_response_action(user_id, view, ack)
        return ack

    def _submission_state(self, view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
        """state.values for a submission: given values, else earlier choices, else initial."""
        current = view["state"]["values"]
        result: dict[str, Any] = {}
        for block, element in iter_elements(view["blocks"]):
            kind = element.get("type")
            if kind not in STATEFUL_TYPES:
                continue
            block_id, action_id = block["block_id"], element["action_id"]
            if action_id in values:
                state = chosen_state(
                    element,
                    values.pop(action_id),
                    self._ws,
                    self._offered.get((view["id"], action_id)),
                )
            else:
                state = (
                    current.get(block_id, {}).get(action_id)
                    or initial_state(element)
                    or empty_state(element)
                )
            if block.get("type") == "input":
                self._client_side_checks(block, element, state)
            result.setdefault(block_id, {})[action_id] = state
        return result

    @staticmethod
    def _client_side_checks(
        block: dict[str, Any], element: dict[str, Any], state: dict[str, Any]
    ) -> None:
        """What Slack's client enforces before it lets anyone press Submit."""
        label = (block.get("label") or {}).get("text", block.get("block_id"))
        if is_empty(state):
            if not block.get("optional"):
                raise DriverError(f"required input {label!r} is empty: Slack would not submit")
            return
        value = state.get("value")
        if isinstance(value, str):
            if "max_length" in element and len(value) > element["max_length"]:
                raise DriverError(f"{label!r} is longer than max_length {element['max_length']}")
            if "min_length" in element and len(value) < element["min_length"]:
                raise DriverError(f"{label!r} is shorter than min_length {element['min_length']}")

    def _apply_response_action(
        self, user_id: str, view: dict[str, Any], ack: dict[str, Any] | None
    ) -> None:
        modals = self._state.modals
        action = (ack or {}).get("response_action")
        if action is None:
            modals.pop(user_id)  # an empty ack closes the submitted view
            return
        assert ack is not None
        if action == "errors":
            self._check_errors(view, ack.get("errors"))
            return
        if action == "clear":
            modals.clear(user_id)
            return
        if action not in ("update", "push"):
            raise AppResponseError([self._violation("invalid_response_action", repr(action))])
        new_view = ack.get("view")
        errors = validate_view(new_view, "/view")
        if errors:
            raise AppResponseError([self._violation(f"invalid_{action}_view", e) for e in errors])
        assert isinstance(new_view, dict)
        try:
            if action == "update":
                modals.update(view, new_view, None)
            else:
                modals.push(user_id, new_view)
        except ApiError as exc:
            raise AppResponseError(
                [self._violation(f"response_action_{action}", exc.error)]
            ) from exc

    def _check_errors(self, view: dict[str, Any], errors: Any) -> None:
        """Slack shows errors only next to input blocks; anything else fails the submit."""
        input_ids = {b["block_id"] for b in view["blocks"] if b.get("type") == "input"}
        if not isinstance(errors, dict) or not errors:
            raise AppResponseError([self._violation("invalid_errors", repr(errors)[:300])])
        bad = [
            self._violation("errors_unknown_block", f"{block_id!r} is not an input block_id")
            for block_id, message in errors.items()
            if block_id not in input_ids or not isinstance(message, str)
        ]
        if bad:
            raise AppResponseError(bad)

    async def close_view(self, user_id: str) -> dict[str, Any] | None:
        """The person closes the modal (X / Cancel); view_closed only if notify_on_close."""
        view = self._open_view(user_id)
        cleared = bool(view.get("clear_on_close"))
        if cleared:
            self._state.modals.clear(user_id)
        else:
            self._state.modals.pop(user_id)
        self._state.recorder.event("user_action", action="close", user=user_id, view_id=view["id"])
        if not view.get("notify_on_close"):
            return None
        payload = self._payloads.view_closed(user_id, view, is_cleared=cleared)
        return (await self._deliverer.deliver(payload)).ack

    async def press_button(
        self,
        user_id: str,
        channel_id: str,
        ts: str,
        action_id: str,
        value: Any = None,
    ) -> dict[str, Any] | None:
        """Click a button (or choose in a select, with `value`) in a message the app posted."""
        self._person(user_id)
        message = self._state.messages.find(channel_id, ts)
        if message is None:
            raise DriverError(f"no message {ts} in {channel_id}")
        if message.is_ephemeral and message.for_user != user_id:
            raise DriverError(
                f"{user_id} cannot see an ephemeral message meant for {message.for_user}"
            )
        channel = self._ws.channels.get(channel_id)
        if channel is not None and channel.is_im and channel.im_user != user_id:
            raise DriverError(f"{user_id} cannot see the DM of {channel.im_user}")
        found = find_element(message.blocks, action_id)
        if found is None:
            raise DriverError(f"no element {action_id!r} in message {ts}")
        block, element = found
        state = None
        if element.get("type") != "button":
            state = chosen_state(element, value, self._ws)
        action = self._payloads.action(block, element, state)
        if element.get("type") == "button":
            button_value = element.get("value") if value is None else value
            if button_value is not None:
                action["value"] = button_value
        trigger_id = self._state.triggers.issue(user_id, "block_actions")
        token = self._state.messages.issue_response_url(channel_id, ts, user_id)
        channel_name = "directmessage" if channel is None or channel.is_im else channel.name
        payload = self._payloads.message_block_actions(
            user_id=user_id,
            message=message,
            channel_name=channel_name,
            action=action,
            trigger_id=trigger_id,
            response_url=self._response_url_for(token),
        )
        self._state.recorder.event(
            "user_action",
            action="button",
            user=user_id,
            channel=channel_id,
            ts=ts,
            action_id=action_id,
        )
        return (await self._deliverer.deliver(payload)).ack

    # -- the App Home tab ----------------------------------------------------------------

    def home_view(self, user_id: str) -> dict[str, Any] | None:
        """The Home tab this user sees now (a copy), or None when nothing was published."""
        return self._state.homes.current(user_id)

    async def open_home(self, user_id: str, tab: str = "home") -> dict[str, Any] | None:
        """The person opens the app's Home (or Messages) tab: Slack sends `app_home_opened`
        through the Events API, carrying the Home view once one was published."""
        self._person(user_id)
        if tab not in ("home", "messages"):
            raise DriverError("tab must be home or messages")
        channel = self._ws.open_dm(user_id)
        event_id = self._state.ids.slack_id("Ev")
        view = self._state.homes.current(user_id) if tab == "home" else None
        payload = self._payloads.app_home_opened(user_id, channel.id, tab, view, event_id)
        self._state.recorder.event("user_action", action="open_home", user=user_id, tab=tab)
        return (await self._deliverer.deliver(payload, kind="events_api")).ack

    async def press_home_button(
        self, user_id: str, action_id: str, block_id: str | None = None
    ) -> dict[str, Any] | None:
        """Click a button in the user's Home tab (`block_id` picks one of several alike)."""
        self._person(user_id)
        view = self._state.homes.current(user_id)
        if view is None:
            raise DriverError(f"{user_id} has no Home tab published")
        blocks = view["blocks"]
        if block_id is not None:
            blocks = [b for b in blocks if b.get("block_id") == block_id]
        found = find_element(blocks, action_id)
        if found is None:
            where = f" in block {block_id!r}" if block_id else ""
            raise DriverError(f"no element {action_id!r}{where} in {user_id}'s Home tab")
        block, element = found
        action = self._payloads.action(block, element, None)
        if element.get("value") is not None:
            action["value"] = element["value"]
        trigger_id = self._state.triggers.issue(user_id, "block_actions", view_id=view["id"])
        payload = self._payloads.view_block_actions(user_id, view, action, trigger_id)
        self._state.recorder.event(
            "user_action", action="home_button", user=user_id, action_id=action_id
        )
        return (await self._deliverer.deliver(payload)).ack

    def forge_next_http(self, kind: str = "bad_signature") -> None:
        """The next HTTP delivery goes out with a bad signature or a 6-minute-old timestamp."""
        self._deliverer.forge_next_http(kind)

    # -- helpers -------------------------------------------------------------------------

    def _person(self, user_id: str) -> None:
        user = self._ws.user(user_id)
        if user is None:
            raise DriverError(f"no user {user_id} in the workspace")
        if user.deleted:
            raise DriverError(f"{user_id} is deactivated and cannot use Slack")

    def _open_view(self, user_id: str) -> dict[str, Any]:
        self._person(user_id)
        view = self._state.modals.current(user_id)
        if view is None:
            raise DriverError(f"{user_id} has no modal open")
        return view

    def _view_element(
        self, user_id: str, action_id: str
    ) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
        view = self._open_view(user_id)
        found = find_element(view["blocks"], action_id)
        if found is None:
            raise DriverError(f"no element {action_id!r} in the open view {view['callback_id']!r}")
        return view, found[0], found[1]

    def _violation(self, kind: str, detail: str) -> Violation:
        return self._state.recorder.violation(kind, detail)
