"""Block Kit to HTML (emulators/slack/blockkit_html.py): the hooks the console relies on."""

from __future__ import annotations

from typing import Any

from emulators.slack.blockkit_html import (
    Directory,
    render_blocks,
    render_message,
    render_mrkdwn,
    render_view,
)

PEOPLE = Directory(
    users={"U0DAVE": "Dave Requester", "U0ALICE": "Alice Approver"},
    channels={"C0AUDIT": "access-audit"},
    tz="Europe/Berlin",
)


def _plain(text: str) -> dict[str, Any]:
    return {"type": "plain_text", "text": text}


def test_a_mention_shows_the_name_and_an_unknown_id_shows_the_id() -> None:
    html = render_mrkdwn("<@U0DAVE> and <@U0NOBODY>", PEOPLE)
    assert '<span class="bk-mention" data-user-id="U0DAVE">@Dave Requester</span>' in html
    assert ">@U0NOBODY</span>" in html


def test_a_date_is_shown_in_the_viewers_time_zone_with_its_utc_moment() -> None:
    html = render_mrkdwn(
        "<!date^1796031900^{date_short_pretty} {time}|2026-11-30 09:45 UTC>", PEOPLE
    )
    assert '<time class="bk-date" datetime="2026-11-30T09:45:00Z"' in html
    assert ">Nov 30, 2026 10:45</time>" in html  # Berlin is UTC+1 in November


def test_bold_italic_strike_code_and_quotes() -> None:
    html = render_mrkdwn("*b* _i_ ~s~ `c*d*` snake_case_name\n&gt; quoted", PEOPLE)
    assert '<b>b</b> <i>i</i> <s>s</s> <code class="bk-code">c*d*</code>' in html
    assert "snake_case_name" in html
    assert '<blockquote class="bk-quote">quoted</blockquote>' in html


def test_an_unknown_block_type_is_shown_never_dropped() -> None:
    html = render_blocks([{"type": "hologram", "block_id": "b1"}, {"type": "divider"}], PEOPLE)
    assert (
        '<div class="bk-unknown" data-block-id="b1">unsupported block type: hologram</div>' in html
    )
    assert '<hr class="bk-block bk-divider"' in html


def test_a_view_is_a_form_with_named_controls_and_inline_errors() -> None:
    view = {
        "type": "modal",
        "id": "V1",
        "callback_id": "deny_modal",
        "title": _plain("Deny"),
        "submit": _plain("Deny"),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": "reason",
                "label": _plain("Reason"),
                "optional": True,
                "element": {
                    "type": "plain_text_input",
                    "action_id": "reason_input",
                    "multiline": True,
                    "max_length": 500,
                },
            }
        ],
    }
    html = render_view(view, PEOPLE, errors={"reason": "Say why <please>"})
    assert html.startswith('<form class="bk-view" data-view-id="V1" data-callback-id="deny_modal"')
    assert '<textarea class="bk-text-input" data-action-id="reason_input"' in html
    assert 'name="reason_input"' in html
    assert 'maxlength="500"' in html
    assert '<p class="bk-error" role="alert">Say why &lt;please&gt;</p>' in html
    assert '<button type="submit" class="bk-submit">Deny</button>' in html
    assert '<button type="button" class="bk-close">Cancel</button>' in html


def test_a_message_without_blocks_shows_its_text_as_mrkdwn() -> None:
    html = render_message({"text": "*Hi* <@U0ALICE>"}, PEOPLE)
    assert html == (
        '<div class="bk-message">\n<div class="bk-text"><b>Hi</b> '
        '<span class="bk-mention" data-user-id="U0ALICE">@Alice Approver</span></div>\n</div>'
    )
