"""Block Kit `rich_text` blocks as HTML (pure: stdlib only).

Sections, lists (nested by `indent`, drawn flat with a class), preformatted and quote
parts; inline text with bold/italic/strike/code styles, links, emoji, mentions and
dates. An unknown part is shown as such. Depth and counts are bounded.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from emulators.slack.blockkit_html_base import bounded, cut_note, unknown
from emulators.slack.html_safety import anchor, esc, safe_href
from emulators.slack.mrkdwn_dates import render_date
from emulators.slack.mrkdwn_html import EMOJI, Directory, render_plain

_STYLE_TAGS = (("code", "code"), ("bold", "b"), ("italic", "i"), ("strike", "s"))
_CONTAINERS = {
    "rich_text_section": ("div", "bk-rt-section"),
    "rich_text_preformatted": ("pre", "bk-pre"),
    "rich_text_quote": ("blockquote", "bk-quote"),
}


def render_rich_text(block: Mapping[str, Any], directory: Directory) -> str:
    elements = block.get("elements")
    parts = [_part(part, directory) for part in bounded(elements)]
    return "".join(parts) + cut_note(len(elements) if isinstance(elements, list) else 0)


def _part(part: Any, directory: Directory) -> str:
    kind = part.get("type") if isinstance(part, Mapping) else None
    if isinstance(part, Mapping) and kind in _CONTAINERS:
        tag, css = _CONTAINERS[kind]
        return f'<{tag} class="{css}">{_inline_all(part.get("elements"), directory)}</{tag}>'
    if isinstance(part, Mapping) and kind == "rich_text_list":
        list_tag = "ol" if part.get("style") == "ordered" else "ul"
        indent = part.get("indent")
        depth = min(max(indent, 0), 8) if isinstance(indent, int) else 0
        items = "".join(
            f"<li>{_inline_all(item.get('elements'), directory)}</li>"
            for item in bounded(part.get("elements"))
            if isinstance(item, Mapping)
        )
        css = f"bk-rt-list bk-rt-indent-{depth}"
        return f'<{list_tag} class="{css}">{items}</{list_tag}>'
    return unknown("rich_text element", kind)


def _inline_all(elements: Any, directory: Directory) -> str:
    return "".join(_inline(e, directory) for e in bounded(elements))


def _inline(element: Any, directory: Directory) -> str:
    if not isinstance(element, Mapping):
        return unknown("rich_text element", None)
    kind = element.get("type")
    renderer = _INLINE.get(kind) if isinstance(kind, str) else None
    if renderer is None:
        return unknown("rich_text element", kind)
    html = renderer(element, directory)
    style = element.get("style")
    if isinstance(style, Mapping):
        for key, tag in _STYLE_TAGS:
            if style.get(key) is True:
                html = f"<{tag}>{html}</{tag}>"
    return html


def _text(element: Mapping[str, Any], key: str) -> str:
    value = element.get(key)
    return value if isinstance(value, str) else ""


def _text_part(element: Mapping[str, Any], _: Directory) -> str:
    return render_plain(_text(element, "text"), with_emoji=False)


def _link(element: Mapping[str, Any], _: Directory) -> str:
    href = safe_href(_text(element, "url"))
    label = render_plain(_text(element, "text") or _text(element, "url"), with_emoji=False)
    return anchor(href, label) if href else label


def _emoji(element: Mapping[str, Any], _: Directory) -> str:
    name = _text(element, "name")
    return esc(EMOJI.get(name, f":{name}:"))


def _user(element: Mapping[str, Any], directory: Directory) -> str:
    user_id = _text(element, "user_id")
    name = directory.users.get(user_id, user_id)
    return f'<span class="bk-mention" data-user-id="{esc(user_id)}">@{esc(name)}</span>'


def _channel(element: Mapping[str, Any], directory: Directory) -> str:
    channel_id = _text(element, "channel_id")
    name = directory.channels.get(channel_id, channel_id)
    return f'<span class="bk-channel" data-channel-id="{esc(channel_id)}">#{esc(name)}</span>'


def _group(element: Mapping[str, Any], _: Directory) -> str:
    name = _text(element, "usergroup_id") or _text(element, "range")
    return f'<span class="bk-mention">@{esc(name)}</span>'


def _date(element: Mapping[str, Any], directory: Directory) -> str:
    argument = f"{element.get('timestamp')}^{_text(element, 'format')}^{_text(element, 'url')}"
    return render_date(argument, _text(element, "fallback"), directory.zone, directory.now)


def _color(element: Mapping[str, Any], _: Directory) -> str:
    return f'<span class="bk-color">{esc(_text(element, "value"))}</span>'


_INLINE: dict[str, Callable[[Mapping[str, Any], Directory], str]] = {
    "text": _text_part,
    "link": _link,
    "emoji": _emoji,
    "user": _user,
    "channel": _channel,
    "usergroup": _group,
    "broadcast": _group,
    "date": _date,
    "color": _color,
}
