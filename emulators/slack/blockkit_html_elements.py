"""Block Kit interactive elements as HTML controls (pure: stdlib only).

Every interactive element carries data-action-id, data-block-id and data-element-type;
stateful ones are form controls named by their action_id so a view's <form> holds the
values the console submits. A `confirm` object travels as data-confirm-* attributes.
Selects and option lists live in blockkit_html_selects; this module has buttons,
images, text/number/date/file inputs and the table of all element types.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from emulators.slack.blockkit_html_base import (
    Context,
    attrs,
    bounded,
    cut_note,
    hooks,
    text_of,
    unknown,
)
from emulators.slack.blockkit_html_selects import (
    choices,
    conversations_select,
    external_select,
    overflow,
    static_select,
    users_select,
)
from emulators.slack.html_safety import esc, safe_href, safe_image_src
from emulators.slack.mrkdwn_html import Directory, plain_string, render_plain, render_text

# -- buttons and images ---------------------------------------------------------------


def button(element: Mapping[str, Any], context: Context) -> str:
    label = render_text(element.get("text"), context.directory)
    common = [
        *hooks(element, context),
        ("data-value", text_of(element.get("value")) if "value" in element else None),
        ("data-style", text_of(element.get("style")) or None),
    ]
    href = safe_href(text_of(element.get("url")))
    if href is not None:
        link = attrs([("href", href), ("target", "_blank"), ("rel", "noopener noreferrer")])
        return f'<a class="bk-button"{link}{attrs(common)}>{label}</a>'
    return f'<button type="button" class="bk-button"{attrs(common)}>{label}</button>'


def feedback_buttons(element: Mapping[str, Any], context: Context) -> str:
    """A context_actions thumbs up/down pair: one element, two buttons with their values."""
    buttons = []
    for side in ("positive", "negative"):
        part = element.get(f"{side}_button")
        if isinstance(part, Mapping):
            pairs = [("data-feedback", side), ("data-value", text_of(part.get("value")))]
            text = render_text(part.get("text"), context.directory)
            buttons.append(f'<button type="button" class="bk-button"{attrs(pairs)}>{text}</button>')
    return f'<span class="bk-feedback"{attrs(hooks(element, context))}>{"".join(buttons)}</span>'


def image(element: Mapping[str, Any], context: Context) -> str:
    alt = text_of(element.get("alt_text"))
    src = safe_image_src(text_of(element.get("image_url")))
    if src is None:
        return f'<span class="bk-image-alt">{render_plain(alt)}</span>'
    return f'<img class="bk-image"{attrs([("src", src), ("alt", alt), ("loading", "lazy")])}>'


# -- text, number, date and file inputs -----------------------------------------------

_INPUT_TYPES = {
    "plain_text_input": "text",
    "email_text_input": "email",
    "url_text_input": "url",
    "number_input": "number",
    "datepicker": "date",
    "timepicker": "time",
    "datetimepicker": "datetime-local",
}


def _number(value: Any) -> str | None:
    return str(value) if isinstance(value, (int, float, str)) and value != "" else None


def text_input(element: Mapping[str, Any], context: Context) -> str:
    kind = text_of(element.get("type"))
    pairs = [
        *hooks(element, context),
        ("name", text_of(element.get("action_id"))),
        ("placeholder", plain_string(element.get("placeholder")) or None),
        ("maxlength", _number(element.get("max_length"))),
        ("minlength", _number(element.get("min_length"))),
    ]
    initial = _initial_text(element, context.directory)
    if kind in {"plain_text_input", "rich_text_input"} and (
        element.get("multiline") or kind == "rich_text_input"
    ):
        return f'<textarea class="bk-text-input"{attrs(pairs)}>{esc(initial or "")}</textarea>'
    if kind == "number_input":
        decimal = element.get("is_decimal_allowed") is True
        pairs += [
            ("step", "any" if decimal else "1"),
            ("min", _number(element.get("min_value"))),
            ("max", _number(element.get("max_value"))),
        ]
    pairs.append(("value", initial))
    return f'<input type="{_INPUT_TYPES.get(kind, "text")}" class="bk-text-input"{attrs(pairs)}>'


def _initial_text(element: Mapping[str, Any], directory: Directory) -> str | None:
    for key in ("initial_value", "initial_date", "initial_time"):
        if isinstance(element.get(key), str):
            return str(element[key])
    stamp = element.get("initial_date_time")
    if isinstance(stamp, int) and 0 <= stamp < 253_370_764_799:
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(seconds=stamp)
        return f"{moment.astimezone(directory.zone):%Y-%m-%dT%H:%M}"
    return None


def file_input(element: Mapping[str, Any], context: Context) -> str:
    types = element.get("filetypes")
    accept = ",".join(f".{t}" for t in bounded(types) if isinstance(t, str))
    name = text_of(element.get("action_id"))
    pairs = [*hooks(element, context), ("name", name), ("accept", accept or None)]
    multiple = " multiple" if _number(element.get("max_files")) not in {None, "1"} else ""
    return f'<input type="file" class="bk-file-input"{attrs(pairs)}{multiple}>'


ELEMENTS: dict[str, Callable[[Mapping[str, Any], Context], str]] = {
    "button": button,
    "workflow_button": button,
    "icon_button": button,
    "feedback_buttons": feedback_buttons,
    "image": image,
    "static_select": static_select,
    "multi_static_select": static_select,
    "external_select": external_select,
    "multi_external_select": external_select,
    "users_select": users_select,
    "multi_users_select": users_select,
    "conversations_select": conversations_select,
    "multi_conversations_select": conversations_select,
    "channels_select": conversations_select,
    "multi_channels_select": conversations_select,
    "radio_buttons": choices,
    "checkboxes": choices,
    "overflow": overflow,
    "file_input": file_input,
    **dict.fromkeys((*_INPUT_TYPES, "rich_text_input"), text_input),
}


def render_element(element: Any, context: Context) -> str:
    """One element; an unknown type is shown as such, never dropped."""
    if not isinstance(element, Mapping):
        return unknown("element", None)
    renderer = ELEMENTS.get(text_of(element.get("type")))
    return renderer(element, context) if renderer else unknown("element", element.get("type"))


def render_elements(elements: Sequence[Any] | Any, context: Context) -> str:
    items = bounded(elements)
    total = len(elements) if isinstance(elements, list) else 0
    return "".join(render_element(e, context) for e in items) + cut_note(total)
