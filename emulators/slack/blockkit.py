"""Block Kit validation with Slack's limits, and helpers to walk blocks.

slack_sdk's models check many limits, but `validate_json()` only looks at one object
and builders skip what they do not know, so the explicit limits from the reference
are checked here first, then each block goes through `Block.parse(...).to_dict()`
(which validates nested objects too). Messages use Slack's own format:
`[ERROR] <what> [json-pointer:<where>]`.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View

from emulators.slack.ids import IdFactory

MAX_MESSAGE_BLOCKS = 50
MAX_MODAL_BLOCKS = 100
MAX_VIEW_BYTES = 250_000
MAX_SUGGESTION_OPTIONS = 100

BLOCK_TYPES = frozenset(
    {
        "section", "divider", "image", "actions", "context", "input", "header",
        "rich_text", "file", "video", "markdown", "table", "context_actions",
    }
)  # fmt: skip
SELECTS_WITH_OPTIONS = frozenset({"static_select", "multi_static_select"})
EXTERNAL_SELECTS = frozenset({"external_select", "multi_external_select"})
SMALL_OPTION_SETS = {"radio_buttons": 10, "checkboxes": 10, "overflow": 5}
ELEMENT_TYPES = frozenset(
    {
        "button", "static_select", "multi_static_select", "external_select",
        "multi_external_select", "users_select", "multi_users_select",
        "conversations_select", "multi_conversations_select", "channels_select",
        "multi_channels_select", "overflow", "radio_buttons", "checkboxes", "datepicker",
        "timepicker", "datetimepicker", "plain_text_input", "email_text_input",
        "url_text_input", "number_input", "rich_text_input", "file_input", "image",
        "workflow_button",
    }
)  # fmt: skip
_SDK_ERRORS = (SlackObjectFormationError, TypeError, ValueError, KeyError, AttributeError)


def _err(message: str, pointer: str) -> str:
    return f"[ERROR] {message} [json-pointer:{pointer}]"


class _Checker:
    """Collects errors while walking one surface (a message's blocks or a view)."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def add(self, message: str, pointer: str) -> None:
        self.errors.append(_err(message, pointer))

    def text(
        self,
        obj: Any,
        pointer: str,
        max_len: int,
        *,
        plain_only: bool = False,
        required: bool = True,
    ) -> None:
        if obj is None:
            if required:
                self.add("missing required field", pointer)
            return
        if not isinstance(obj, dict):
            self.add("must be a text object", pointer)
            return
        kinds = ("plain_text",) if plain_only else ("plain_text", "mrkdwn")
        if obj.get("type") not in kinds:
            self.add(f"must be one of {', '.join(kinds)}", f"{pointer}/type")
        text = obj.get("text")
        if not isinstance(text, str) or not text:
            self.add("must be more than 0 characters", f"{pointer}/text")
        elif len(text) > max_len:
            self.add(f"must be less than {max_len + 1} characters", f"{pointer}/text")

    def string(self, value: Any, pointer: str, max_len: int) -> None:
        if value is None:
            return
        if not isinstance(value, str):
            self.add("must be a string", pointer)
        elif len(value) > max_len:
            self.add(f"must be less than {max_len + 1} characters", pointer)

    def option(self, option: Any, pointer: str, *, plain_only: bool) -> None:
        if not isinstance(option, dict):
            self.add("must be an option object", pointer)
            return
        self.text(option.get("text"), f"{pointer}/text", 75, plain_only=plain_only)
        value = option.get("value")
        if not isinstance(value, str) or not value:
            self.add("must be more than 0 characters", f"{pointer}/value")
        else:
            self.string(value, f"{pointer}/value", 150)
        self.text(option.get("description"), f"{pointer}/description", 75, required=False)

    def options(
        self, options: Any, pointer: str, *, max_items: int, plain_only: bool = True
    ) -> list[str]:
        """Check a list of options; return their values (for initial_option checks)."""
        if not isinstance(options, list) or not options:
            self.add("must provide at least 1 item", pointer)
            return []
        if len(options) > max_items:
            self.add(f"no more than {max_items} items allowed", pointer)
        for i, option in enumerate(options):
            self.option(option, f"{pointer}/{i}", plain_only=plain_only)
        return [o.get("value", "") for o in options if isinstance(o, dict)]

    def option_groups(self, groups: Any, pointer: str) -> list[str]:
        if not isinstance(groups, list) or not groups:
            self.add("must provide at least 1 item", pointer)
            return []
        if len(groups) > 100:
            self.add("no more than 100 items allowed", pointer)
        values: list[str] = []
        for i, group in enumerate(groups):
            if not isinstance(group, dict):
                self.add("must be an option group", f"{pointer}/{i}")
                continue
            self.text(group.get("label"), f"{pointer}/{i}/label", 75, plain_only=True)
            values += self.options(group.get("options"), f"{pointer}/{i}/options", max_items=100)
        return values

    def element(self, element: Any, pointer: str) -> None:
        if not isinstance(element, dict):
            self.add("must be an element object", pointer)
            return
        kind = element.get("type")
        if kind not in ELEMENT_TYPES:
            self.add(f"unsupported type: {kind}", f"{pointer}/type")
            return
        self.string(element.get("action_id"), f"{pointer}/action_id", 255)
        self.text(element.get("placeholder"), f"{pointer}/placeholder", 150, required=False)
        if kind == "button":
            self.text(element.get("text"), f"{pointer}/text", 75, plain_only=True)
            self.string(element.get("value"), f"{pointer}/value", 2000)
            self.string(element.get("url"), f"{pointer}/url", 3000)
            style = element.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.add("must be one of primary, danger", f"{pointer}/style")
        elif kind in SELECTS_WITH_OPTIONS:
            self._static_select(element, pointer)
        elif kind in SMALL_OPTION_SETS:
            values = self.options(
                element.get("options"),
                f"{pointer}/options",
                max_items=SMALL_OPTION_SETS[kind],
                plain_only=kind == "overflow",
            )
            self._initial_options(element, values, pointer)
        elif kind in EXTERNAL_SELECTS:
            min_len = element.get("min_query_length")
            if min_len is not None and (not isinstance(min_len, int) or min_len < 0):
                self.add("must be a non-negative integer", f"{pointer}/min_query_length")
        elif kind == "plain_text_input":
            self._text_input(element, pointer)

    def _static_select(self, element: dict[str, Any], pointer: str) -> None:
        has_options, has_groups = "options" in element, "option_groups" in element
        if has_options == has_groups:
            self.add("must provide exactly one of options, option_groups", pointer)
            return
        if has_options:
            values = self.options(element["options"], f"{pointer}/options", max_items=100)
        else:
            values = self.option_groups(element["option_groups"], f"{pointer}/option_groups")
        self._initial_options(element, values, pointer)

    def _initial_options(self, element: dict[str, Any], values: list[str], pointer: str) -> None:
        initial = element.get("initial_option")
        chosen = [initial] if initial is not None else list(element.get("initial_options") or [])
        for option in chosen:
            if not isinstance(option, dict) or option.get("value") not in values:
                self.add("must match one of the provided options", f"{pointer}/initial_option")

    def _text_input(self, element: dict[str, Any], pointer: str) -> None:
        max_length = element.get("max_length")
        if max_length is not None and (
            not isinstance(max_length, int) or not 1 <= max_length <= 3000
        ):
            self.add("must be between 1 and 3000", f"{pointer}/max_length")
        min_length = element.get("min_length")
        if min_length is not None and (
            not isinstance(min_length, int) or not 0 <= min_length <= 3000
        ):
            self.add("must be between 0 and 3000", f"{pointer}/min_length")
        self.string(element.get("initial_value"), f"{pointer}/initial_value", 3000)

    def block(self, block: Any, pointer: str, seen_block_ids: set[str]) -> None:
        if not isinstance(block, dict):
            self.add("must be a block object", pointer)
            return
        kind = block.get("type")
        if kind not in BLOCK_TYPES:
            self.add(f"unsupported type: {kind}", f"{pointer}/type")
            return
        before = len(self.errors)
        block_id = block.get("block_id")
        self.string(block_id, f"{pointer}/block_id", 255)
        if isinstance(block_id, str):
            if block_id in seen_block_ids:
                self.add(f"duplicate block_id: {block_id}", f"{pointer}/block_id")
            seen_block_ids.add(block_id)
        self._block_body(block, kind, pointer)
        if len(self.errors) == before:
            self._sdk_check(block, pointer)

    def _block_body(self, block: dict[str, Any], kind: str, pointer: str) -> None:
        check = {
            "section": self._section,
            "header": self._header,
            "actions": self._actions,
            "context": self._context,
            "input": self._input,
            "image": self._image,
        }.get(kind)
        if check is not None:
            check(block, pointer)

    def _section(self, block: dict[str, Any], pointer: str) -> None:
        if block.get("text") is None and block.get("fields") is None:
            self.add("must provide either text or fields", pointer)
        self.text(block.get("text"), f"{pointer}/text", 3000, required=False)
        fields = block.get("fields")
        if fields is not None:
            if not isinstance(fields, list) or len(fields) > 10:
                self.add("no more than 10 items allowed", f"{pointer}/fields")
            else:
                for i, item in enumerate(fields):
                    self.text(item, f"{pointer}/fields/{i}", 2000)
        if block.get("accessory") is not None:
            self.element(block["accessory"], f"{pointer}/accessory")

    def _header(self, block: dict[str, Any], pointer: str) -> None:
        self.text(block.get("text"), f"{pointer}/text", 150, plain_only=True)

    def _actions(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements:
            self.add("must provide at least 1 item", f"{pointer}/elements")
            return
        if len(elements) > 25:
            self.add("no more than 25 items allowed", f"{pointer}/elements")
        action_ids: set[str] = set()
        for i, element in enumerate(elements):
            self.element(element, f"{pointer}/elements/{i}")
            action_id = element.get("action_id") if isinstance(element, dict) else None
            if isinstance(action_id, str):
                if action_id in action_ids:
                    self.add(f"duplicate action_id: {action_id}", f"{pointer}/elements/{i}")
                action_ids.add(action_id)

    def _context(self, block: dict[str, Any], pointer: str) -> None:
        elements = block.get("elements")
        if not isinstance(elements, list) or not elements or len(elements) > 10:
            self.add("must provide between 1 and 10 items", f"{pointer}/elements")

    def _input(self, block: dict[str, Any], pointer: str) -> None:
        self.text(block.get("label"), f"{pointer}/label", 2000, plain_only=True)
        self.text(block.get("hint"), f"{pointer}/hint", 2000, plain_only=True, required=False)
        if block.get("element") is None:
            self.add("missing required field", f"{pointer}/element")
        else:
            self.element(block["element"], f"{pointer}/element")

    def _image(self, block: dict[str, Any], pointer: str) -> None:
        self.string(block.get("alt_text"), f"{pointer}/alt_text", 2000)
        self.string(block.get("image_url"), f"{pointer}/image_url", 3000)

    def _sdk_check(self, block: dict[str, Any], pointer: str) -> None:
        """Let slack_sdk's models check what they know (nested validation via to_dict)."""
        try:
            parsed = Block.parse(copy.deepcopy(block))
            if parsed is not None:
                parsed.to_dict()
        except _SDK_ERRORS as exc:
            self.add(str(exc) or type(exc).__name__, pointer)

    def blocks(self, blocks: Any, pointer: str, max_blocks: int) -> None:
        if not isinstance(blocks, list):
            self.add("must be an array", pointer)
            return
        if len(blocks) > max_blocks:
            self.add(f"no more than {max_blocks} items allowed", pointer)
        seen: set[str] = set()
        for i, block in enumerate(blocks):
            self.block(block, f"{pointer}/{i}", seen)


def validate_message_blocks(blocks: Any) -> list[str]:
    """Errors for a message's `blocks` (chat.postMessage, chat.update, response_url)."""
    checker = _Checker()
    checker.blocks(blocks, "/blocks", MAX_MESSAGE_BLOCKS)
    return checker.errors


def view_too_large(view: Any) -> bool:
    return len(json.dumps(view)) > MAX_VIEW_BYTES


def validate_view(view: Any, pointer: str = "/view") -> list[str]:
    """Errors for a modal or home view passed to views.open/update/push or response_action."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.add("must be a view object", pointer)
        return checker.errors
    kind = view.get("type")
    if kind not in ("modal", "home"):
        checker.add("must be one of modal, home", f"{pointer}/type")
        return checker.errors
    if kind == "modal":
        checker.text(view.get("title"), f"{pointer}/title", 24, plain_only=True)
        checker.text(view.get("submit"), f"{pointer}/submit", 24, plain_only=True, required=False)
        checker.text(view.get("close"), f"{pointer}/close", 24, plain_only=True, required=False)
    checker.string(view.get("callback_id"), f"{pointer}/callback_id", 255)
    checker.string(view.get("external_id"), f"{pointer}/external_id", 255)
    checker.string(view.get("private_metadata"), f"{pointer}/private_metadata", 3000)
    blocks = view.get("blocks")
    checker.blocks(blocks, f"{pointer}/blocks", MAX_MODAL_BLOCKS)
    has_input = isinstance(blocks, list) and any(
        isinstance(b, dict) and b.get("type") == "input" for b in blocks
    )
    if kind == "modal" and has_input and view.get("submit") is None:
        checker.add("must provide a submit property when an input block is present", pointer)
    if not checker.errors:
        try:
            View(**copy.deepcopy(view)).validate_json()
        except _SDK_ERRORS as exc:
            checker.add(str(exc), pointer)
    return checker.errors


def validate_options_response(answer: Any) -> list[str]:
    """Errors in a block_suggestion answer: `{"options": [...]}` or `{"option_groups": [...]}`."""
    checker = _Checker()
    if not isinstance(answer, dict) or ("options" in answer) == ("option_groups" in answer):
        checker.add("must provide exactly one of options, option_groups", "")
        return checker.errors
    if "options" in answer:
        options = answer["options"]
        if not isinstance(options, list):
            checker.add("must be an array", "/options")
        elif options:  # an empty list is a valid "no matches" answer
            checker.options(options, "/options", max_items=MAX_SUGGESTION_OPTIONS)
    else:
        checker.option_groups(answer["option_groups"], "/option_groups")
    return checker.errors


# -- walking --------------------------------------------------------------------


def iter_elements(blocks: list[dict[str, Any]]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(block, element) for every interactive element, in display order."""
    for block in blocks:
        kind = block.get("type")
        if kind == "section" and isinstance(block.get("accessory"), dict):
            yield block, block["accessory"]
        elif kind == "actions":
            for element in block.get("elements") or []:
                if isinstance(element, dict):
                    yield block, element
        elif kind == "input" and isinstance(block.get("element"), dict):
            yield block, block["element"]


def find_element(
    blocks: list[dict[str, Any]], action_id: str
) -> tuple[dict[str, Any], dict[str, Any]] | None:
    for block, element in iter_elements(blocks):
        if element.get("action_id") == action_id:
            return block, element
    return None


def element_options(element: dict[str, Any]) -> list[dict[str, Any]]:
    """All options of an element, flattening option groups."""
    if "option_groups" in element:
        return [o for g in element["option_groups"] for o in g.get("options", [])]
    return list(element.get("options") or [])


def fill_ids(blocks: list[dict[str, Any]], ids: IdFactory) -> list[dict[str, Any]]:
    """Copy of `blocks` with the block_ids / action_ids Slack fills in when they are absent."""
    filled = copy.deepcopy(blocks)
    for block in filled:
        block.setdefault("block_id", ids.short())
    for _, element in iter_elements(filled):
        if element.get("type") != "image":
            element.setdefault("action_id", ids.short())
    return filled
