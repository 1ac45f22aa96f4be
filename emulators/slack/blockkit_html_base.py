"""What every Block Kit element renderer shares: where it is drawn, hooks, bounds (pure)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from emulators.slack.html_safety import esc
from emulators.slack.mrkdwn_html import Directory, plain_string

# More than any Slack list allows (100 options, 25 elements); beyond it items are cut
# visibly so a huge input costs bounded work.
MAX_ITEMS = 200


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
        ("data-action-id", text_of(element.get("action_id"))),
        ("data-block-id", context.block_id),
        ("data-element-type", text_of(element.get("type"))),
    ]
    if context.dispatch:
        pairs.append(("data-dispatch-action", "true"))
    if context.label:
        pairs.append(("aria-label", context.label))
    return pairs + _confirm(element.get("confirm"))


def text_of(value: Any) -> str:
    """`value` if it is a string, else "" (payloads may hold anything)."""
    return value if isinstance(value, str) else ""


def _confirm(confirm: Any) -> list[tuple[str, str | None]]:
    if not isinstance(confirm, Mapping):
        return []
    return [
        ("data-confirm-title", plain_string(confirm.get("title")) or "Are you sure?"),
        ("data-confirm-text", plain_string(confirm.get("text"))),
        ("data-confirm-confirm", plain_string(confirm.get("confirm")) or "Yes"),
        ("data-confirm-deny", plain_string(confirm.get("deny")) or "Cancel"),
        ("data-confirm-style", text_of(confirm.get("style")) or None),
    ]
