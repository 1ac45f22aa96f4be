"""Hostile text stays text: no markup, no handlers, no javascript: links; huge input is cut."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.slack.blockkit_html import (
    MAX_BLOCKS,
    Directory,
    render_blocks,
    render_message,
    render_mrkdwn,
    render_options,
    render_view,
)
from emulators.slack.blockkit_html_base import MAX_ITEMS
from emulators.slack.mrkdwn_html import MAX_TEXT_CHARS
from tests.emulators.html_checks import parse

HOSTILE = "<script>alert(1)</script>\"><img src=x onerror=alert(2)>'&"
BAD_URLS = [
    "javascript:alert(1)",
    " JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "vbscript:x",
    "//evil.test/x",
]
PEOPLE = Directory(users={"U1": HOSTILE}, channels={"C1": HOSTILE}, tz="UTC")


def _tags(html: str) -> list[tuple[str, dict[str, str | None]]]:
    return parse(html).starts  # well-formed, too


def _assert_inert(html: str) -> None:
    for tag, attrs in _tags(html):
        assert tag not in {"script", "iframe", "object", "embed", "style"}, html
        assert not [name for name in attrs if name.startswith("on")], (tag, attrs)
        for name in ("href", "src"):
            value = attrs.get(name)
            if value is not None:
                assert value.startswith(("http://", "https://", "mailto:")), (tag, attrs)


def _slack_escaped(text: str) -> str:
    """How a sender puts text into mrkdwn (Slack's three entities)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _everything(text: str, url: str) -> dict[str, Any]:
    """A view that puts `text` and `url` into every place a text or URL can go."""
    option = {"text": _plain(text), "value": text, "description": _plain(text)}
    confirm = {
        "title": _plain(text),
        "text": _plain(text),
        "confirm": _plain(text),
        "deny": _plain(text),
    }
    element_common = {"action_id": text, "placeholder": _plain(text)}
    mrkdwn = _slack_escaped(text)
    return {
        "id": text,
        "callback_id": text,
        "title": _plain(text),
        "submit": _plain(text),
        "close": _plain(text),
        "blocks": [
            {"type": "header", "block_id": text, "text": _plain(text)},
            {
                "type": "section",
                "block_id": text,
                "text": {
                    "type": "mrkdwn",
                    "text": f"{text} {mrkdwn} <{url}|{mrkdwn}> <@U1> <#C1> "
                    f"<!date^1^{{date}}^{url}|{mrkdwn}>",
                },
                "fields": [{"type": "mrkdwn", "text": text}],
                "accessory": {"type": "image", "image_url": url, "alt_text": text},
            },
            {
                "type": "actions",
                "block_id": text,
                "elements": [
                    {
                        "type": "button",
                        "action_id": text,
                        "text": _plain(text),
                        "value": text,
                        "url": url,
                        "style": text,
                        "confirm": confirm,
                    },
                    {"type": "overflow", "action_id": text, "options": [{**option, "url": url}]},
                ],
            },
            {
                "type": "context",
                "elements": [{"type": "image", "image_url": url, "alt_text": text}, _plain(text)],
            },
            {"type": "image", "image_url": url, "alt_text": text, "title": _plain(text)},
            {
                "type": "video",
                "title": _plain(text),
                "title_url": url,
                "video_url": url,
                "thumbnail_url": url,
                "alt_text": text,
            },
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "link", "url": url, "text": text},
                            {"type": "text", "text": text},
                            {
                                "type": "date",
                                "timestamp": 1,
                                "format": text,
                                "url": url,
                                "fallback": text,
                            },
                        ],
                    }
                ],
            },
            {
                "type": "input",
                "block_id": text,
                "label": _plain(text),
                "hint": _plain(text),
                "element": {**element_common, "type": "static_select", "options": [option]},
            },
            {
                "type": "input",
                "block_id": "r",
                "label": _plain(text),
                "element": {**element_common, "type": "radio_buttons", "options": [option]},
            },
            {
                "type": "input",
                "block_id": "t",
                "label": _plain(text),
                "element": {
                    **element_common,
                    "type": "plain_text_input",
                    "initial_value": text,
                    "multiline": True,
                },
            },
            {
                "type": "input",
                "block_id": "x",
                "label": _plain(text),
                "element": {**element_common, "type": "external_select", "initial_option": option},
            },
            {
                "type": "input",
                "block_id": "u",
                "label": _plain(text),
                "element": {**element_common, "type": "users_select"},
            },
            {"type": text},
        ],
    }


@pytest.mark.parametrize("url", BAD_URLS)
def test_hostile_text_and_urls_everywhere_render_inert(url: str) -> None:
    view = _everything(HOSTILE, url)
    html = render_view(view, PEOPLE, errors={HOSTILE: HOSTILE, "t": HOSTILE})
    _assert_inert(html)
    assert "<script" not in html
    assert HOSTILE not in html
    message = render_message({"text": HOSTILE, "blocks": view["blocks"]}, PEOPLE)
    _assert_inert(message)
    assert "<script" not in message


def test_hostile_text_comes_back_as_the_same_characters() -> None:
    """Escaped, not mangled: the reader sees exactly what was sent."""
    tags = _tags(render_view(_everything(HOSTILE, "https://ok.test/?a=1&b=2"), PEOPLE))
    form = dict(tags[0][1])
    assert form["data-view-id"] == HOSTILE
    assert form["data-callback-id"] == HOSTILE
    buttons = [a for t, a in tags if a.get("class") == "bk-button"]
    assert buttons[0]["data-value"] == HOSTILE
    assert buttons[0]["data-confirm-text"] == HOSTILE
    assert buttons[0]["href"] == "https://ok.test/?a=1&b=2"


@pytest.mark.parametrize("url", BAD_URLS)
def test_a_refused_link_keeps_its_label_as_text(url: str) -> None:
    html = render_mrkdwn(f"see <{_slack_escaped(url)}|the runbook>", PEOPLE)
    assert html == "see the runbook"


def test_a_link_in_slack_escaping_is_followed_as_sent() -> None:
    html = render_mrkdwn("<https://x.test/?a=1&amp;b=2|docs &amp; more>", PEOPLE)
    assert html == (
        '<a class="bk-link" href="https://x.test/?a=1&amp;b=2" target="_blank" '
        'rel="noopener noreferrer">docs &amp; more</a>'
    )


def test_raw_angle_brackets_that_are_no_control_stay_visible() -> None:
    assert render_mrkdwn("a <script> b", PEOPLE) == "a &lt;script&gt; b"


def test_placeholder_characters_in_input_cannot_pull_in_other_html() -> None:
    """The renderer parks controls behind private-use characters; input cannot forge them."""
    html = render_mrkdwn("<@U1> \ue0000\ue001 `x`", Directory(users={"U1": "Dave"}))
    assert html.count("@Dave") == 1
    assert html.count("<code") == 1


def test_huge_inputs_are_cut_visibly_and_cost_bounded_output() -> None:
    text = "*a " * 1_000_000
    html = render_mrkdwn(text, PEOPLE)
    assert "more characters not shown" in html
    assert len(html) < MAX_TEXT_CHARS * 10

    blocks = [{"type": "divider"}] * (MAX_BLOCKS + 50)
    html = render_blocks(blocks, PEOPLE)
    assert html.count("bk-divider") == MAX_BLOCKS
    assert "50 more blocks not shown" in html

    options = [{"text": _plain(f"o{i}"), "value": f"v{i}"} for i in range(MAX_ITEMS + 7)]
    select = {"type": "static_select", "action_id": "s", "options": options}
    html = render_blocks([{"type": "actions", "elements": [select]}], PEOPLE)
    assert html.count('<option value="v') == MAX_ITEMS
    assert "7 more not shown" in html
    assert render_options({"options": options}).count("<li") == MAX_ITEMS

    many_people = Directory(users={f"U{i}": f"p{i}" for i in range(MAX_ITEMS + 3)})
    html = render_blocks(
        [{"type": "actions", "elements": [{"type": "users_select", "action_id": "u"}]}], many_people
    )
    assert "3 more not shown" in html


@pytest.mark.parametrize("src", [*BAD_URLS, "mailto:x@example.com", "MAILTO:x@example.com"])
def test_an_image_from_anywhere_but_the_web_shows_its_alt_text(src: str) -> None:
    html = render_blocks([{"type": "image", "image_url": src, "alt_text": "a <chart>"}], PEOPLE)
    assert "<img" not in html
    assert '<span class="bk-image-alt">a &lt;chart&gt;</span>' in html
