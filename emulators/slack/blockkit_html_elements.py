"""Block Kit interactive elements as HTML controls (pure: stdlib only).

Every interactive element carries data-action-id, data-block-id and data-element-type;
stateful ones are form controls named by their action_id so a view's <form> holds the
values the console submits. A `confirm` object travels as data-confirm-* attributes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from emulators.slack.html_safety import esc, safe_href, safe_image_src
from emulators.slack.mrkdwn_html import Directory, plain_string, render_plain, render_text

# More than any Slack list allows (100 options, 25 elements); beyond it items are cut
# visibly so a huge input costs bounded work.
MAX_ITEMS = 200
EXTERNAL_MIN_QUERY_LENGTH = 3  # Slack's documented default


@dataclass(frozen=True)
class Context:
    """Where an element is drawn: its block, the viewer, the input block's label."""

    block_id: str
    directory: Directory
    label: str = ""
    dispatch: bool = False


def unknown(kind: str, what: Any) -> str:
    name = what if isinstance(what, str) and what else "(none)"
    return f'<div class="bk-unknown">unsupported {kind} type: {esc(name)}</div>'


def cut_note(total: int) -> str:
    extra = total - MAX_ITEMS
    return f'<span class="bk-truncated">… {extra} more not shown</span>' if extra > 0 else ""


def bounded(items: Any) -> list[Any]:
    return list(items[:MAX_ITEMS]) if isinstance(items, list) else []


def attrs(pairs: Iterable[tuple[str, str | None]]) -> str:
    """` name="value"` for each pair whose value is not None (values escaped)."""
    return "".join(f' {name}="{esc(value)}"' for name, value in pairs if value is not None)


def hooks(element: Mapping[str, Any], context: Context) -> list[tuple[str, str | None]]:
    pairs: list[tuple[str, str | None]] = [
        ("data-action-id", _str(element.get("action_id"))),
        ("data-block-id", context.block_id),
        ("data-element-type", _str(element.get("type"))),
    ]
    if context.dispatch:
        pairs.append(("data-dispatch-action", "true"))
    if context.label:
        pairs.append(("aria-label", context.label))
    return pairs + _confirm(element.get("confirm"))


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _confirm(confirm: Any) -> list[tuple[str, str | None]]:
    if not isinstance(confirm, Mapping):
        return []
    return [
        ("data-confirm-title", plain_string(confirm.get("title")) or "Are you sure?"),
        ("data-confirm-text", plain_string(confirm.get("text"))),
        ("data-confirm-confirm", plain_string(confirm.get("confirm")) or "Yes"),
        ("data-confirm-deny", plain_string(confirm.get("deny")) or "Cancel"),
        ("data-confirm-style", _str(confirm.get("style")) or None),
    ]


# -- buttons and images ---------------------------------------------------------------


def button(element: Mapping[str, Any], context: Context) -> str:
    label = render_text(element.get("text"), context.directory)
    common = [
        *hooks(element, context),
        ("data-value", _str(element.get("value")) if "value" in element else None),
        ("data-style", _str(element.get("style")) or None),
    ]
    href = safe_href(_str(element.get("url")))
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
            pairs = [("data-feedback", side), ("data-value", _str(part.get("value")))]
            text = render_text(part.get("text"), context.directory)
            buttons.append(f'<button type="button" class="bk-button"{attrs(pairs)}>{text}</button>')
    return f'<span class="bk-feedback"{attrs(hooks(element, context))}>{"".join(buttons)}</span>'


def image(element: Mapping[str, Any], context: Context) -> str:
    alt = _str(element.get("alt_text"))
    src = safe_image_src(_str(element.get("image_url")))
    if src is None:
        return f'<span class="bk-image-alt">{render_plain(alt)}</span>'
    return f'<img class="bk-image"{attrs([("src", src), ("alt", alt), ("loading", "lazy")])}>'


# -- options --------------------------------------------------------------------------


def _option_html(option: Any, selected: set[str]) -> str:
    if not isinstance(option, Mapping):
        return ""
    value = _str(option.get("value"))
    flags = " selected" if value in selected else ""
    title = attrs([("title", plain_string(option.get("description")) or None)])
    text = esc(plain_string(option.get("text")))
    return f'<option value="{esc(value)}"{title}{flags}>{text}</option>'


def _options_html(element: Mapping[str, Any], selected: set[str]) -> str:
    groups = element.get("option_groups")
    if isinstance(groups, list):
        parts = []
        for group in bounded(groups):
            if isinstance(group, Mapping):
                options = group.get("options")
                inner = "".join(_option_html(o, selected) for o in bounded(options))
                label = esc(plain_string(group.get("label")))
                parts.append(f'<optgroup label="{label}">{inner}</optgroup>')
        return "".join(parts)
    options = element.get("options")
    return "".join(_option_html(o, selected) for o in bounded(options))


def _initial_values(element: Mapping[str, Any]) -> set[str]:
    values: set[str] = set()
    for key in ("initial_option", "initial_options"):
        chosen = element.get(key)
        for option in chosen if isinstance(chosen, list) else [chosen]:
            if isinstance(option, Mapping):
                values.add(_str(option.get("value")))
    for key in ("initial_user", "initial_conversation", "initial_channel"):
        if isinstance(element.get(key), str):
            values.add(element[key])
    for key in ("initial_users", "initial_conversations", "initial_channels"):
        if isinstance(element.get(key), list):
            values.update(v for v in element[key] if isinstance(v, str))
    return values


def _select(element: Mapping[str, Any], context: Context, options_html: str) -> str:
    kind = _str(element.get("type"))
    multiple = kind.startswith("multi_")
    selected = _initial_values(element)
    placeholder = esc(plain_string(element.get("placeholder")))
    leading = "" if selected or multiple else f'<option value="">{placeholder}</option>'
    control = attrs([*hooks(element, context), ("name", _str(element.get("action_id")))])
    flag = " multiple" if multiple else ""
    return f'<select class="bk-select"{control}{flag}>{leading}{options_html}</select>'


def static_select(element: Mapping[str, Any], context: Context) -> str:
    options = element.get("option_groups") or element.get("options")
    total = len(options) if isinstance(options, list) else 0
    return _select(element, context, _options_html(element, _initial_values(element))) + cut_note(
        total
    )


def _named_select(names: Mapping[str, str]) -> Callable[[Mapping[str, Any], Context], str]:
    """users_select / conversations_select: the directory's people or channels as options."""

    def render(element: Mapping[str, Any], context: Context) -> str:
        selected = _initial_values(element)
        items = list(names.items())[:MAX_ITEMS]
        html = "".join(
            f'<option value="{esc(key)}"{" selected" * (key in selected)}>{esc(name)}</option>'
            for key, name in items
        )
        return _select(element, context, html) + cut_note(len(names))

    return render


def users_select(element: Mapping[str, Any], context: Context) -> str:
    return _named_select(context.directory.users)(element, context)


def conversations_select(element: Mapping[str, Any], context: Context) -> str:
    return _named_select(context.directory.channels)(element, context)


def external_select(element: Mapping[str, Any], context: Context) -> str:
    action_id = _str(element.get("action_id"))
    min_length = element.get("min_query_length", EXTERNAL_MIN_QUERY_LENGTH)
    chosen = [element.get("initial_option")] if "initial_option" in element else []
    chosen = chosen or bounded(element.get("initial_options"))
    options = [o for o in chosen if isinstance(o, Mapping)]
    multiple = _str(element.get("type")).startswith("multi_")
    search = attrs(
        [
            *hooks(element, context),
            ("data-min-query-length", str(min_length if isinstance(min_length, int) else 3)),
            ("data-multiple", "true" if multiple else None),
            ("placeholder", plain_string(element.get("placeholder")) or None),
            ("value", plain_string(options[0].get("text")) if options and not multiple else None),
        ]
    )
    hidden = (
        "".join(
            f'<input type="hidden"{attrs([("name", action_id), ("value", _str(o.get("value")))])}>'
            for o in options
        )
        or f'<input type="hidden"{attrs([("name", action_id), ("value", "")])}>'
    )
    chips = "".join(
        f'<span class="bk-chosen">{esc(plain_string(o.get("text")))}</span>'
        for o in (options if multiple else [])
    )
    listing = attrs([("data-action-id", action_id), ("data-block-id", context.block_id)])
    return (
        f'<input type="search" class="bk-external" autocomplete="off"{search}>{chips}'
        f'<ul class="bk-options" role="listbox"{listing}></ul>{hidden}'
    )


def choices(element: Mapping[str, Any], context: Context) -> str:
    """radio_buttons and checkboxes: a group of labelled native inputs."""
    kind = "radio" if element.get("type") == "radio_buttons" else "checkbox"
    selected = _initial_values(element)
    name = _str(element.get("action_id"))
    items = []
    for option in bounded(element.get("options")):
        if not isinstance(option, Mapping):
            continue
        value = _str(option.get("value"))
        checked = " checked" if value in selected else ""
        description = render_text(option.get("description"), context.directory)
        extra = f'<span class="bk-description">{description}</span>' if description else ""
        control = attrs([("type", kind), ("name", name), ("value", value)])
        text = render_text(option.get("text"), context.directory)
        items.append(f'<label class="bk-choice"><input{control}{checked}> {text}{extra}</label>')
    role = "radiogroup" if kind == "radio" else "group"
    group = attrs([*hooks(element, context), ("role", role)])
    return f'<div class="bk-choices"{group}>{"".join(items)}</div>'


def overflow(element: Mapping[str, Any], context: Context) -> str:
    control = attrs([*hooks(element, context), ("name", _str(element.get("action_id")))])
    html = _options_html(element, set())
    return f'<select class="bk-overflow"{control}><option value="">⋯</option>{html}</select>'


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
    kind = _str(element.get("type"))
    pairs = [
        *hooks(element, context),
        ("name", _str(element.get("action_id"))),
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
    name = _str(element.get("action_id"))
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
    renderer = ELEMENTS.get(_str(element.get("type")))
    return renderer(element, context) if renderer else unknown("element", element.get("type"))


def render_elements(elements: Sequence[Any] | Any, context: Context) -> str:
    items = bounded(elements)
    total = len(elements) if isinstance(elements, list) else 0
    return "".join(render_element(e, context) for e in items) + cut_note(total)
