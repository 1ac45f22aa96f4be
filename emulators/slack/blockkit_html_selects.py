"""Block Kit selects and option lists as native HTML controls (pure: stdlib only).

Static, external, users and conversations selects, radio buttons, checkboxes and
overflow menus. Chosen values come from the element's initial_* fields (a view's state
is turned into those first, see blockkit_html_state).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emulators.slack.blockkit_html_base import (
    MAX_ITEMS,
    Context,
    attrs,
    bounded,
    cut_note,
    hooks,
    text_of,
)
from emulators.slack.html_safety import esc
from emulators.slack.mrkdwn_html import emoji, plain_string, render_text

EXTERNAL_MIN_QUERY_LENGTH = 3  # Slack's documented default


def _option_html(option: Any, selected: set[str]) -> str:
    if not isinstance(option, Mapping):
        return ""
    value = text_of(option.get("value"))
    flags = " selected" if value in selected else ""
    title = attrs([("title", plain_string(option.get("description")) or None)])
    text = emoji(esc(plain_string(option.get("text"))))  # an <option> holds text only
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
                values.add(text_of(option.get("value")))
    for key in ("initial_user", "initial_conversation", "initial_channel"):
        if isinstance(element.get(key), str):
            values.add(element[key])
    for key in ("initial_users", "initial_conversations", "initial_channels"):
        if isinstance(element.get(key), list):
            values.update(v for v in element[key] if isinstance(v, str))
    return values


def _select(element: Mapping[str, Any], context: Context, options_html: str) -> str:
    kind = text_of(element.get("type"))
    multiple = kind.startswith("multi_")
    selected = _initial_values(element)
    placeholder = esc(plain_string(element.get("placeholder")))
    leading = "" if selected or multiple else f'<option value="">{placeholder}</option>'
    control = attrs([*hooks(element, context), ("name", text_of(element.get("action_id")))])
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
    action_id = text_of(element.get("action_id"))
    min_length = element.get("min_query_length", EXTERNAL_MIN_QUERY_LENGTH)
    chosen = [element.get("initial_option")] if "initial_option" in element else []
    chosen = chosen or bounded(element.get("initial_options"))
    options = [o for o in chosen if isinstance(o, Mapping)]
    multiple = text_of(element.get("type")).startswith("multi_")
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
            f'<input type="hidden"{attrs([("name", action_id), ("value", value)])}>'
            for value in (text_of(o.get("value")) for o in options)
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
    name = text_of(element.get("action_id"))
    items = []
    for option in bounded(element.get("options")):
        if not isinstance(option, Mapping):
            continue
        value = text_of(option.get("value"))
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
    control = attrs([*hooks(element, context), ("name", text_of(element.get("action_id")))])
    html = _options_html(element, set())
    return f'<select class="bk-overflow"{control}><option value="">⋯</option>{html}</select>'
