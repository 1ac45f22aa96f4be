"""Every block and element type Slack documents is drawn; an unknown one is shown as such."""

from __future__ import annotations

from typing import Any

import pytest

from emulators.slack.blockkit import BLOCK_TYPES, ELEMENT_TYPES
from emulators.slack.blockkit_html import BLOCKS, Directory, render_blocks, render_view
from emulators.slack.blockkit_html_elements import ELEMENTS

PEOPLE = Directory(
    users={"U0DAVE": "Dave Requester", "U0ALICE": "Alice Approver"},
    channels={"C0AUDIT": "access-audit", "C0OPS": "ops"},
    tz="Europe/Berlin",
)


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def _option(value: str, text: str, description: str | None = None) -> dict[str, Any]:
    option: dict[str, Any] = {"value": value, "text": _plain(text)}
    if description:
        option["description"] = _plain(description)
    return option


def _input(element: dict[str, Any], block_id: str = "b") -> list[dict[str, Any]]:
    return [{"type": "input", "block_id": block_id, "label": _plain("Label"), "element": element}]


def test_the_renderer_knows_every_type_the_validator_accepts() -> None:
    assert set(BLOCK_TYPES) <= set(BLOCKS)
    assert set(ELEMENT_TYPES) <= set(ELEMENTS)


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        ({"type": "header", "text": _plain("Hi <b>")}, '<h3 class="bk-block bk-header"'),
        ({"type": "divider"}, '<hr class="bk-block bk-divider" data-block-id="">'),
        (
            {"type": "image", "image_url": "https://x.test/a.png", "alt_text": "a chart"},
            '<img class="bk-image" src="https://x.test/a.png" alt="a chart" loading="lazy">',
        ),
        ({"type": "markdown", "text": "**big**\nnext"}, "**big**<br>next"),
        ({"type": "file", "external_id": "F1", "source": "remote"}, "Remote file F1"),
        (
            {
                "type": "video",
                "title": _plain("Demo"),
                "title_url": "https://x.test/v",
                "video_url": "https://x.test/v.mp4",
                "thumbnail_url": "https://x.test/t.png",
                "alt_text": "demo video",
            },
            '<a class="bk-link" href="https://x.test/v"',
        ),
        (
            {
                "type": "table",
                "rows": [[{"type": "raw_text", "text": "a"}, {"type": "raw_text", "text": "b"}]],
            },
            "<tr><td>a</td><td>b</td></tr>",
        ),
        (
            {
                "type": "rich_text",
                "elements": [
                    {
                        "type": "rich_text_section",
                        "elements": [
                            {"type": "text", "text": "hi ", "style": {"bold": True}},
                            {"type": "user", "user_id": "U0DAVE"},
                            {"type": "emoji", "name": "white_check_mark"},
                        ],
                    },
                    {
                        "type": "rich_text_list",
                        "style": "ordered",
                        "elements": [
                            {
                                "type": "rich_text_section",
                                "elements": [{"type": "text", "text": "1"}],
                            }
                        ],
                    },
                    {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "x"}]},
                    {"type": "rich_text_quote", "elements": [{"type": "text", "text": "q"}]},
                ],
            },
            '<b>hi </b><span class="bk-mention" data-user-id="U0DAVE">@Dave Requester</span>✅',
        ),
        (
            {
                "type": "context_actions",
                "elements": [
                    {
                        "type": "feedback_buttons",
                        "action_id": "fb",
                        "positive_button": {"text": _plain("Good"), "value": "up"},
                        "negative_button": {"text": _plain("Bad"), "value": "down"},
                    }
                ],
            },
            'data-element-type="feedback_buttons"',
        ),
    ],
    ids=lambda v: v["type"] if isinstance(v, dict) else "",
)
def test_every_documented_block_type_is_drawn(block: dict[str, Any], expected: str) -> None:
    html = render_blocks([block], PEOPLE)
    assert expected in html
    assert "bk-unknown" not in html


def test_a_rich_text_list_an_ordered_list_and_quote_keep_their_structure() -> None:
    block = {
        "type": "rich_text",
        "elements": [
            {
                "type": "rich_text_list",
                "style": "bullet",
                "indent": 1,
                "elements": [
                    {"type": "rich_text_section", "elements": [{"type": "text", "text": "a"}]}
                ],
            },
            {"type": "rich_text_quote", "elements": [{"type": "text", "text": "q"}]},
        ],
    }
    html = render_blocks([block], PEOPLE)
    assert '<ul class="bk-rt-list bk-rt-indent-1"><li>a</li></ul>' in html
    assert '<blockquote class="bk-quote">q</blockquote>' in html


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        (
            {
                "type": "checkboxes",
                "action_id": "c",
                "options": [_option("a", "A"), _option("b", "B")],
                "initial_options": [_option("b", "B")],
            },
            '<input type="checkbox" name="c" value="b" checked>',
        ),
        (
            {
                "type": "multi_static_select",
                "action_id": "m",
                "options": [_option("a", "A"), _option("b", "B")],
                "initial_options": [_option("a", "A")],
            },
            '<option value="a" selected>A</option>',
        ),
        (
            {
                "type": "static_select",
                "action_id": "g",
                "option_groups": [
                    {"label": _plain("Group <1>"), "options": [_option("a", "A", "the a")]}
                ],
            },
            '<optgroup label="Group &lt;1&gt;"><option value="a" title="the a">A</option>',
        ),
        (
            {"type": "multi_users_select", "action_id": "u", "initial_users": ["U0ALICE"]},
            '<option value="U0ALICE" selected>Alice Approver</option>',
        ),
        (
            {"type": "conversations_select", "action_id": "c", "initial_conversation": "C0OPS"},
            '<option value="C0OPS" selected>ops</option>',
        ),
        (
            {"type": "channels_select", "action_id": "c"},
            '<option value="C0AUDIT">access-audit</option>',
        ),
        (
            {"type": "datepicker", "action_id": "d", "initial_date": "2026-12-04"},
            'type="date" class="bk-text-input"',
        ),
        (
            {"type": "timepicker", "action_id": "t", "initial_time": "09:30"},
            'name="t" value="09:30"',
        ),
        (
            {"type": "datetimepicker", "action_id": "dt", "initial_date_time": 1796031900},
            'value="2026-11-30T10:45"',  # shown in the viewer's zone (Berlin)
        ),
        (
            {
                "type": "number_input",
                "action_id": "n",
                "is_decimal_allowed": False,
                "min_value": "1",
                "max_value": "9",
            },
            'type="number" class="bk-text-input"',
        ),
        ({"type": "email_text_input", "action_id": "e"}, 'type="email"'),
        ({"type": "url_text_input", "action_id": "u"}, 'type="url"'),
        ({"type": "rich_text_input", "action_id": "r"}, "<textarea"),
        ({"type": "file_input", "action_id": "f", "filetypes": ["pdf"]}, 'accept=".pdf"'),
        (
            {
                "type": "multi_external_select",
                "action_id": "x",
                "initial_options": [_option("a", "A"), _option("b", "B")],
            },
            '<input type="hidden" name="x" value="a"><input type="hidden" name="x" value="b">',
        ),
    ],
    ids=lambda v: v["type"] if isinstance(v, dict) else "",
)
def test_every_input_element_is_a_named_native_control(
    element: dict[str, Any], expected: str
) -> None:
    html = render_blocks(_input(element), PEOPLE)
    assert expected in html
    assert f'data-element-type="{element["type"]}"' in html
    assert "bk-unknown" not in html


def test_actions_elements_and_a_confirm_dialog_travel_as_data_attributes() -> None:
    confirm = {
        "title": _plain("Revoke?"),
        "text": {"type": "mrkdwn", "text": "Access ends *now* &amp; for good"},
        "confirm": _plain("Revoke"),
        "deny": _plain("Keep"),
        "style": "danger",
    }
    blocks = [
        {
            "type": "actions",
            "block_id": "a",
            "elements": [
                {
                    "type": "button",
                    "action_id": "revoke",
                    "text": _plain("Revoke"),
                    "confirm": confirm,
                },
                {"type": "overflow", "action_id": "more", "options": [_option("x", "X")]},
                {"type": "workflow_button", "action_id": "wf", "text": _plain("Run")},
                {"type": "image", "image_url": "https://x.test/i.png", "alt_text": "icon"},
            ],
        }
    ]
    html = render_blocks(blocks, PEOPLE)
    assert 'data-confirm-title="Revoke?"' in html
    assert 'data-confirm-text="Access ends *now* &amp; for good"' in html
    assert (
        'data-confirm-confirm="Revoke" data-confirm-deny="Keep" data-confirm-style="danger"' in html
    )
    assert '<select class="bk-overflow" data-action-id="more"' in html
    assert 'data-element-type="workflow_button"' in html
    assert '<img class="bk-image" src="https://x.test/i.png" alt="icon"' in html


@pytest.mark.parametrize(
    "blocks",
    [
        [{"type": "hologram", "block_id": "h"}],
        [{"block_id": "no-type"}],
        ["not a block"],
        [{"type": "actions", "elements": [{"type": "teleporter", "action_id": "t"}]}],
        [{"type": "input", "label": _plain("L"), "element": {"type": "mind_reader"}}],
        [{"type": "section", "accessory": {"type": "crystal_ball"}}],
        [{"type": "context", "elements": [{"type": "sticker"}]}],
        [{"type": "rich_text", "elements": [{"type": "rich_text_hologram"}]}],
        [
            {
                "type": "rich_text",
                "elements": [{"type": "rich_text_section", "elements": [{"type": "gif"}]}],
            }
        ],
    ],
    ids=lambda blocks: str(blocks[0])[:40],
)
def test_an_unknown_type_anywhere_is_shown_as_such(blocks: list[Any]) -> None:
    html = render_blocks(blocks, PEOPLE)
    assert '<div class="bk-unknown"' in html
    assert "unsupported" in html


def test_an_unknown_type_name_is_escaped() -> None:
    html = render_blocks([{"type": "<img src=x onerror=alert(1)>"}], PEOPLE)
    assert "unsupported block type: &lt;img src=x onerror=alert(1)&gt;" in html


def test_a_view_shows_what_its_state_holds_instead_of_initial_values() -> None:
    view = {
        "id": "V1",
        "callback_id": "cb",
        "title": _plain("T"),
        "blocks": [
            *_input(
                {
                    "type": "static_select",
                    "action_id": "s",
                    "options": [_option("a", "A"), _option("b", "B")],
                    "initial_option": _option("a", "A"),
                },
                block_id="sel",
            ),
            *_input({"type": "plain_text_input", "action_id": "t"}, block_id="txt"),
            *_input({"type": "users_select", "action_id": "u"}, block_id="usr"),
            *_input({"type": "external_select", "action_id": "x"}, block_id="ext"),
        ],
        "state": {
            "values": {
                "sel": {"s": {"type": "static_select", "selected_option": _option("b", "B")}},
                "txt": {"t": {"type": "plain_text_input", "value": "typed <text>"}},
                "usr": {"u": {"type": "users_select", "selected_user": "U0DAVE"}},
                "ext": {
                    "x": {"type": "external_select", "selected_option": _option("d1", "laptop")}
                },
            }
        },
    }
    html = render_view(view, PEOPLE)
    assert '<option value="a">A</option><option value="b" selected>B</option>' in html
    assert 'value="typed &lt;text&gt;"' in html
    assert '<option value="U0DAVE" selected>Dave Requester</option>' in html
    assert 'value="laptop"' in html
    assert '<input type="hidden" name="x" value="d1">' in html
    assert "<footer" in html
    assert 'class="bk-submit"' not in html  # this view has no submit button


def test_an_app_home_view_has_no_close_or_submit_and_options_show_emoji() -> None:
    select = {
        "type": "static_select",
        "action_id": "s",
        "options": [{"value": "a", "text": _plain(":lock: Locked")}],
    }
    home = {"type": "home", "blocks": [{"type": "actions", "block_id": "a", "elements": [select]}]}
    html = render_view(home, PEOPLE)
    assert 'data-view-type="home"' in html
    assert "<footer" not in html
    assert '<option value="a">\U0001f512 Locked</option>' in html
