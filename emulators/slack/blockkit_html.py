"""Block Kit to HTML: messages, modals and suggestion answers as the sandbox console shows them.

Pure (stdlib only) and deterministic for a given Directory. The HTML hooks the console
relies on are listed in the console contract (docs/architecture.md, "Block Kit in
HTML"): `bk-` classes, data-action-id / data-block-id / data-element-type on every
interactive element, form controls named by action_id. Nothing is dropped: an unknown
block or element type is rendered as `<div class="bk-unknown">`, and lists beyond the
bounds say how many items were cut. The renderer ships no CSS.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from emulators.slack.blockkit_html_base import Context, attrs, bounded, cut_note, unknown
from emulators.slack.blockkit_html_elements import image, render_element, render_elements
from emulators.slack.blockkit_html_state import apply_state
from emulators.slack.html_safety import anchor, esc, safe_href
from emulators.slack.mrkdwn_html import (
    Directory,
    plain_string,
    render_mrkdwn,
    render_plain,
    render_text,
)
from emulators.slack.rich_text_html import render_rich_text

__all__ = [
    "Directory",
    "render_blocks",
    "render_message",
    "render_mrkdwn",
    "render_options",
    "render_view",
]

# Slack allows 50 blocks in a message and 100 in a modal; more are cut visibly.
MAX_BLOCKS = 100


def _block_id(block: Mapping[str, Any]) -> str:
    value = block.get("block_id")
    return value if isinstance(value, str) else ""


def _div(kind: str, block: Mapping[str, Any], inner: str, tag: str = "div") -> str:
    hook = attrs([("data-block-id", _block_id(block))])
    return f'<{tag} class="bk-block bk-{kind}"{hook}>{inner}</{tag}>'


def _section(block: Mapping[str, Any], directory: Directory) -> str:
    parts = []
    text = render_text(block.get("text"), directory)
    if text:
        parts.append(f'<div class="bk-text">{text}</div>')
    fields = block.get("fields")
    if isinstance(fields, list) and fields:
        inner = "".join(
            f'<div class="bk-field">{render_text(f, directory)}</div>' for f in bounded(fields)
        )
        parts.append(f'<div class="bk-fields">{inner}{cut_note(len(fields))}</div>')
    accessory = block.get("accessory")
    if accessory is not None:
        element = render_element(accessory, Context(_block_id(block), directory))
        parts.append(f'<div class="bk-accessory">{element}</div>')
    return _div("section", block, "".join(parts))


def _header(block: Mapping[str, Any], directory: Directory) -> str:
    return _div("header", block, render_text(block.get("text"), directory), tag="h3")


def _divider(block: Mapping[str, Any], _: Directory) -> str:
    return f'<hr class="bk-block bk-divider"{attrs([("data-block-id", _block_id(block))])}>'


def _actions(block: Mapping[str, Any], directory: Directory) -> str:
    context = Context(_block_id(block), directory)
    return _div("actions", block, render_elements(block.get("elements"), context))


def _context_actions(block: Mapping[str, Any], directory: Directory) -> str:
    context = Context(_block_id(block), directory)
    return _div("context-actions", block, render_elements(block.get("elements"), context))


def _context(block: Mapping[str, Any], directory: Directory) -> str:
    items = []
    elements = block.get("elements")
    for element in bounded(elements):
        kind = element.get("type") if isinstance(element, Mapping) else None
        kind = kind if isinstance(kind, str) else None
        if kind in {"mrkdwn", "plain_text"}:
            inner = render_text(element, directory)
        elif kind == "image" and isinstance(element, Mapping):
            inner = image(element, Context(_block_id(block), directory))
        else:
            inner = unknown("context element", kind)
        items.append(f'<span class="bk-context-item">{inner}</span>')
    total = len(elements) if isinstance(elements, list) else 0
    return _div("context", block, "".join(items) + cut_note(total))


def _image(block: Mapping[str, Any], directory: Directory) -> str:
    picture = image(block, Context(_block_id(block), directory))
    title = render_text(block.get("title"), directory)
    caption = f'<figcaption class="bk-image-title">{title}</figcaption>' if title else ""
    return _div("image", block, picture + caption, tag="figure")


def _input(
    block: Mapping[str, Any], directory: Directory, errors: Mapping[str, str] | None = None
) -> str:
    label = plain_string(block.get("label"))
    context = Context(_block_id(block), directory, label, block.get("dispatch_action") is True)
    optional = ' <span class="bk-optional">(optional)</span>' if block.get("optional") else ""
    parts = [
        f'<div class="bk-label">{render_text(block.get("label"), directory)}{optional}</div>',
        render_element(block.get("element"), context),
    ]
    hint = render_text(block.get("hint"), directory)
    if hint:
        parts.append(f'<p class="bk-hint">{hint}</p>')
    error = (errors or {}).get(_block_id(block))
    if error is not None:
        parts.append(f'<p class="bk-error" role="alert">{render_plain(str(error))}</p>')
    return _div("input", block, "".join(parts))


def _rich_text(block: Mapping[str, Any], directory: Directory) -> str:
    return _div("rich-text", block, render_rich_text(block, directory))


def _markdown(block: Mapping[str, Any], _: Directory) -> str:
    """Standard markdown is not Slack mrkdwn; shown as its text, line breaks kept."""
    text = block.get("text")
    return _div("markdown", block, render_plain(text if isinstance(text, str) else ""))


def _file(block: Mapping[str, Any], _: Directory) -> str:
    external = block.get("external_id")
    name = external if isinstance(external, str) else ""
    return _div("file", block, f'<span class="bk-file-name">Remote file {esc(name)}</span>')


def _video(block: Mapping[str, Any], directory: Directory) -> str:
    title = render_text(block.get("title"), directory)
    href = safe_href(str(block.get("title_url") or block.get("video_url") or ""))
    heading = anchor(href, title) if href else title
    thumbnail = image(
        {"image_url": block.get("thumbnail_url"), "alt_text": block.get("alt_text")},
        Context(_block_id(block), directory),
    )
    description = render_text(block.get("description"), directory)
    return _div("video", block, f"{heading}{thumbnail}<p>{description}</p>")


def _table(block: Mapping[str, Any], directory: Directory) -> str:
    rows = []
    for row in bounded(block.get("rows")):
        cells = "".join(f"<td>{_table_cell(cell, directory)}</td>" for cell in bounded(row) if row)
        rows.append(f"<tr>{cells}</tr>")
    return _div("table", block, f'<table class="bk-table">{"".join(rows)}</table>')


def _table_cell(cell: Any, directory: Directory) -> str:
    if isinstance(cell, Mapping) and cell.get("type") == "raw_text":
        return render_plain(str(cell.get("text", "")))
    if isinstance(cell, Mapping) and cell.get("type") == "rich_text":
        return render_rich_text(cell, directory)
    return unknown("table cell", cell.get("type") if isinstance(cell, Mapping) else None)


BLOCKS: dict[str, Callable[[Mapping[str, Any], Directory], str]] = {
    "section": _section,
    "header": _header,
    "divider": _divider,
    "actions": _actions,
    "context": _context,
    "image": _image,
    "input": _input,
    "rich_text": _rich_text,
    "markdown": _markdown,
    "file": _file,
    "video": _video,
    "table": _table,
    "context_actions": _context_actions,
}


def _render_block(block: Any, directory: Directory, errors: Mapping[str, str] | None) -> str:
    if not isinstance(block, Mapping):
        return unknown("block", None)
    kind = block.get("type")
    if kind == "input":
        return _input(block, directory, errors)
    renderer = BLOCKS.get(kind) if isinstance(kind, str) else None
    if renderer is None:
        hook = attrs([("data-block-id", _block_id(block) or None)])
        return unknown("block", kind).replace('"bk-unknown"', f'"bk-unknown"{hook}', 1)
    return renderer(block, directory)


def _blocks(blocks: Any, directory: Directory, errors: Mapping[str, str] | None = None) -> str:
    if not isinstance(blocks, (list, tuple)):
        return ""
    # One block per line: whitespace between blocks is harmless and diffs stay readable.
    html = "\n".join(_render_block(block, directory, errors) for block in blocks[:MAX_BLOCKS])
    extra = len(blocks) - MAX_BLOCKS
    note = f'\n<div class="bk-truncated">… {extra} more blocks not shown</div>' if extra > 0 else ""
    return html + note


def render_blocks(blocks: Sequence[Mapping[str, Any]], directory: Directory) -> str:
    """A list of blocks as HTML, in order."""
    return _blocks(blocks, directory)


def render_message(message: Mapping[str, Any], directory: Directory) -> str:
    """A message (`text` + optional `blocks`); without blocks its text is shown as mrkdwn."""
    blocks = message.get("blocks")
    text = message.get("text")
    if isinstance(blocks, list) and blocks:
        inner = _blocks(blocks, directory)
    elif isinstance(text, str) and message.get("mrkdwn") is False:
        inner = f'<div class="bk-text">{render_plain(text)}</div>'
    elif isinstance(text, str):
        inner = f'<div class="bk-text">{render_mrkdwn(text, directory)}</div>'
    else:
        inner = ""
    if message.get("attachments"):
        inner += unknown("message part", "attachments")
    return f'<div class="bk-message">\n{inner}\n</div>'


def render_view(
    view: Mapping[str, Any], directory: Directory, errors: Mapping[str, str] | None = None
) -> str:
    """A modal as a <form>: title, blocks, close and (if the view has one) submit button.

    What the person already entered (`view["state"]["values"]`, as the emulator keeps
    it) is shown in place of the elements' initial values.

    `errors` is a `response_action: errors` answer (block_id -> text); an error for a
    block the view does not have is still shown, at the top.
    """
    form = attrs(
        [
            ("data-view-id", _text_field(view, "id")),
            ("data-callback-id", _text_field(view, "callback_id")),
            ("data-view-type", _text_field(view, "type") or "modal"),
        ]
    )
    state = view.get("state")
    values = state.get("values") if isinstance(state, Mapping) else None
    blocks = apply_state(view.get("blocks"), values)
    listed = blocks if isinstance(blocks, list) else []
    known = {_block_id(b) for b in listed if isinstance(b, Mapping)}
    stray = "".join(
        f'<p class="bk-error" role="alert"{attrs([("data-block-id", block_id)])}>'
        f"{render_plain(str(text))}</p>"
        for block_id, text in list((errors or {}).items())[:MAX_BLOCKS]
        if block_id not in known
    )
    title = render_text(view.get("title"), directory)
    close = render_text(view.get("close"), directory) or "Cancel"
    submit = render_text(view.get("submit"), directory)
    submit_button = f'<button type="submit" class="bk-submit">{submit}</button>' if submit else ""
    footer = (
        f'<footer class="bk-view-footer"><button type="button" class="bk-close">{close}</button>'
        f"{submit_button}</footer>\n"
        if view.get("type", "modal") == "modal"
        else ""  # an App Home tab is not closed or submitted
    )
    return (
        f'<form class="bk-view"{form}>\n'
        f'<header class="bk-view-header"><h2 class="bk-view-title">{title}</h2></header>\n'
        f'<div class="bk-view-body">\n{stray}{_blocks(blocks, directory, errors)}\n</div>\n'
        f"{footer}</form>"
    )


def _text_field(mapping: Mapping[str, Any], key: str) -> str:
    value = mapping.get(key)
    return value if isinstance(value, str) else ""


def render_options(answer: Mapping[str, Any]) -> str:
    """A block_suggestion answer (`options` or `option_groups`) as the <li> items of the
    external select's `<ul class="bk-options">`; each option's value in data-value."""

    def items(options: Any) -> str:
        return "".join(
            f'<li class="bk-option" role="option"{attrs([("data-value", _text_field(o, "value"))])}'
            f">{esc(plain_string(o.get('text')))}{_description(o)}</li>"
            for o in bounded(options)
            if isinstance(o, Mapping)
        )

    groups = answer.get("option_groups")
    if isinstance(groups, list):
        return "".join(
            f'<li class="bk-option-group" role="group">'
            f'<span class="bk-option-group-label">{esc(plain_string(g.get("label")))}</span>'
            f"<ul>{items(g.get('options'))}</ul></li>"
            for g in bounded(groups)
            if isinstance(g, Mapping)
        )
    return items(answer.get("options"))


def _description(option: Mapping[str, Any]) -> str:
    text = plain_string(option.get("description"))
    return f' <span class="bk-description">{esc(text)}</span>' if text else ""
