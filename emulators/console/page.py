"""The console's one page (pure): the panes, filled in by console.js."""

from __future__ import annotations

from pathlib import Path

from shared.slack_ids import CallbackId

REQUEST_SHORTCUT = CallbackId.REQUEST_SHORTCUT.value
TEMPLATE = (Path(__file__).parent / "static" / "index.html").read_text(encoding="utf-8")


def page(people_options: str, has_tailnet: bool) -> str:
    """Server-rendered shell; `people_options` is trusted HTML from render_people."""
    tailnet = (
        '<div id="tailnet"><p class="muted">Connecting…</p></div>'
        if has_tailnet
        else '<p class="muted">The real tailnet is used; the console does not show it.</p>'
    )
    return (
        TEMPLATE.replace("{{shortcut}}", REQUEST_SHORTCUT)
        .replace("{{tailnet}}", tailnet)
        .replace("{{people}}", people_options)
    )
