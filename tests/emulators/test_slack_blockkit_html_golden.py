"""Every message, modal and suggestion answer the product sends, rendered to HTML.

Input: the golden JSON of the services (tests/*/golden). Output pinned in
tests/emulators/golden_html/<service>/<name>.html; regenerate with
`ACCESSBOT_REGENERATE_GOLDEN=1 pytest tests/emulators/test_slack_blockkit_html_golden.py`
and review the diff. Besides the pinned text, each rendering must be well-formed HTML
and must carry a hook for every block and every interactive element of its JSON, so a
dropped block or button fails here even if someone regenerates the golden files.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.slack.blockkit import iter_elements
from emulators.slack.blockkit_html import Directory, render_message, render_options, render_view
from tests.emulators.html_checks import parse

TESTS = Path(__file__).parent.parent
GOLDEN_JSON = sorted(TESTS.glob("*/golden/*.json"))
GOLDEN_HTML = Path(__file__).parent / "golden_html"
REGENERATE = os.environ.get("ACCESSBOT_REGENERATE_GOLDEN") == "1"
# A fixed viewer: Berlin is not UTC, so a date shown in UTC would be caught.
VIEWER = Directory(
    users={
        "U0DAVE": "Dave Requester",
        "U0ALICE": "Alice Approver",
        "U0BOB": "Bob Builder",
        "U0MALLORY": "Mallory",
    },
    channels={"C0AUDIT01": "access-audit"},
    tz="Europe/Berlin",
)


def _payloads(document: Any, where: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, where, payload) for every view, options answer and message in a document."""
    if isinstance(document, dict):
        if ("callback_id" in document or document.get("type") == "home") and "blocks" in document:
            yield "view", where, document
        elif "options" in document or "option_groups" in document:
            yield "options", where, document
        elif "blocks" in document and "text" in document:
            yield "message", where, document
        else:
            for key, value in document.items():
                yield from _payloads(value, f"{where}/{key}")
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _payloads(value, f"{where}/{index}")


def _render(kind: str, payload: dict[str, Any]) -> str:
    if kind == "view":
        return render_view(payload, VIEWER)
    if kind == "options":
        return f'<ul class="bk-options">{render_options(payload)}</ul>'
    return render_message(payload, VIEWER)


def _rendered(path: Path) -> list[tuple[str, str, dict[str, Any], str]]:
    document = json.loads(path.read_text(encoding="utf-8"))
    return [
        (kind, where, payload, _render(kind, payload))
        for kind, where, payload in _payloads(document, path.stem)
    ]


def _golden_text(path: Path) -> str:
    return "".join(f"<!-- {where} -->\n{html}\n\n" for _, where, _, html in _rendered(path))


def _blocks(kind: str, payload: dict[str, Any]) -> list[dict[str, Any]]:
    return list(payload.get("blocks", [])) if kind != "options" else []


def _ids(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.name}"


def test_golden_json_of_both_services_is_rendered() -> None:
    assert {path.parent.parent.name for path in GOLDEN_JSON} >= {"intake", "notifier"}
    pinned = {p.relative_to(GOLDEN_HTML).with_suffix("") for p in GOLDEN_HTML.glob("*/*.html")}
    sources = {p.relative_to(TESTS).with_suffix("").parent.parent / p.stem for p in GOLDEN_JSON}
    assert pinned == sources, "a golden .html without its JSON (or the reverse)"


@pytest.mark.parametrize("path", GOLDEN_JSON, ids=_ids)
def test_rendered_html_matches_the_golden_file(path: Path) -> None:
    target = GOLDEN_HTML / path.parent.parent.name / f"{path.stem}.html"
    text = _golden_text(path)
    if REGENERATE:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    assert target.exists(), f"{target} missing: run with ACCESSBOT_REGENERATE_GOLDEN=1"
    assert target.read_text(encoding="utf-8") == text


@pytest.mark.parametrize("path", GOLDEN_JSON, ids=_ids)
def test_every_block_and_interactive_element_has_its_hook(path: Path) -> None:
    for kind, where, payload, html in _rendered(path):
        tags = parse(html)
        assert 'class="bk-unknown"' not in html, where
        blocks = _blocks(kind, payload)
        drawn = [a for _, a in tags.starts if "bk-block" in (a.get("class") or "").split()]
        assert len(drawn) == len(blocks), where
        assert [a.get("data-block-id") for a in drawn] == [b.get("block_id", "") for b in blocks]
        hooked = [a for _, a in tags.starts if "data-element-type" in a]
        expected = [
            (element.get("action_id"), block.get("block_id", ""), element["type"])
            for block, element in iter_elements(blocks)
            if element["type"] != "image"  # an accessory image is not interactive
        ]
        found = [(a["data-action-id"], a["data-block-id"], a["data-element-type"]) for a in hooked]
        assert found == expected, where


@pytest.mark.parametrize("path", GOLDEN_JSON, ids=_ids)
def test_every_stateful_input_of_a_view_is_a_named_form_control(path: Path) -> None:
    for kind, where, payload, html in _rendered(path):
        if kind != "view":
            continue
        tags = parse(html)
        names = {a.get("name") for tag, a in tags.starts if tag in {"input", "select", "textarea"}}
        inputs = [b["element"]["action_id"] for b in payload["blocks"] if b["type"] == "input"]
        assert set(inputs) <= names, where
        assert html.startswith(
            f'<form class="bk-view" data-view-id="" '
            f'data-callback-id="{payload.get("callback_id", "")}"'
        )


@pytest.mark.parametrize("path", GOLDEN_JSON, ids=_ids)
def test_every_suggested_option_is_listed_with_its_value(path: Path) -> None:
    for kind, where, payload, html in _rendered(path):
        if kind != "options":
            continue
        groups = payload.get("option_groups") or [payload]
        values = [o["value"] for g in groups for o in g["options"]]
        tags = parse(html)
        listed = [a["data-value"] for tag, a in tags.starts if tag == "li" and "data-value" in a]
        assert listed == values, where


@pytest.mark.parametrize("path", GOLDEN_JSON, ids=_ids)
def test_an_error_for_every_input_block_is_shown_inside_that_block(path: Path) -> None:
    for kind, where, payload, _ in _rendered(path):
        if kind != "view":
            continue
        inputs = [b["block_id"] for b in payload["blocks"] if b["type"] == "input"]
        errors = {block_id: f"Fix <{block_id}> & retry" for block_id in inputs}
        html = render_view(payload, VIEWER, errors=errors)
        parse(html)
        for block_id in inputs:
            block_html = html.split(f'<div class="bk-block bk-input" data-block-id="{block_id}">')[
                1
            ]
            block_html = block_html.split("\n", 1)[0]  # one block per line
            alert = f'<p class="bk-error" role="alert">Fix &lt;{block_id}&gt; &amp; retry</p>'
            assert block_html.endswith(alert + "</div>"), where
        assert html.count('class="bk-error"') == len(inputs), where


@pytest.mark.parametrize("path", GOLDEN_JSON, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_emoji_the_product_sends_is_drawn(path: Path) -> None:
    """A shortcode the renderer does not know stays `:name:` text in the console: every
    one the services send is in the emulator's table (Slack knows them all)."""
    from emulators.slack.mrkdwn_html import EMOJI

    document = json.loads(path.read_text(encoding="utf-8"))
    used = set(re.findall(r":([a-z+][a-z0-9_+-]{0,63}):", json.dumps(document)))
    assert used - EMOJI.keys() == set()
