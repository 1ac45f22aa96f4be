"""Block Kit to HTML (emulators/slack/blockkit_html.py): the hooks the console relies on."""

from __future__ import annotations

import ast
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

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


DATE = "<!date^1796031900^{date_short_pretty} {time}|2026-11-30 09:45 UTC>"


def test_every_date_token_is_formatted_in_the_viewers_zone() -> None:
    tokens = "{date_num}/{date}/{date_short}/{date_long}/{time}/{time_secs}/{unknown}"
    html = render_mrkdwn(f"<!date^1796031900^{tokens}|fallback>", PEOPLE)
    assert (
        ">2026-11-30/November 30th, 2026/Nov 30, 2026/Monday, November 30th, 2026/10:45/10:45:00"
        "/{unknown}</time>"
    ) in html


def test_relative_dates_need_the_viewers_now_and_are_absolute_without_it() -> None:
    today = Directory(users={}, tz="Europe/Berlin", now=datetime(2026, 11, 30, 20, 0, tzinfo=UTC))
    tomorrow = Directory(
        users={}, tz="Europe/Berlin", now=datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
    )
    assert ">Today 10:45</time>" in render_mrkdwn(DATE, today)
    assert ">Tomorrow 10:45</time>" in render_mrkdwn(DATE, tomorrow)
    assert ">Nov 30, 2026 10:45</time>" in render_mrkdwn(DATE, PEOPLE)
    ago = "<!date^1796031900^{ago}|x>"
    assert ">10 hours ago</time>" in render_mrkdwn(ago, today)
    assert ">in 21 hours</time>" in render_mrkdwn(ago, tomorrow)


def test_a_date_that_cannot_be_read_shows_its_fallback() -> None:
    assert render_mrkdwn("<!date^soon^{date}|next week &amp; later>", PEOPLE) == (
        "next week &amp; later"
    )
    assert render_mrkdwn("<!date^99999999999999^{date}|far>", PEOPLE) == "far"


def test_a_date_with_a_link_opens_it() -> None:
    html = render_mrkdwn("<!date^1796031900^{date_num}^https://x.test/r?a=1&amp;b=2|f>", PEOPLE)
    assert html.startswith('<a class="bk-link" href="https://x.test/r?a=1&amp;b=2"')


def test_channels_specials_and_labels() -> None:
    html = render_mrkdwn(
        "<#C0AUDIT> <#C0GONE|old-name> <#C0NONE> <!here> <!subteam^S1|@oncall>", PEOPLE
    )
    assert '<span class="bk-channel" data-channel-id="C0AUDIT">#access-audit</span>' in html
    assert ">#old-name</span>" in html
    assert ">#C0NONE</span>" in html
    assert '<span class="bk-mention">@here</span>' in html
    assert '<span class="bk-mention">@oncall</span>' in html


def test_a_user_group_mention_shows_the_group_s_handle_as_slack_does() -> None:
    groups = Directory(users={}, groups={"S0DBA": "dba-oncall"})
    assert (
        render_mrkdwn("<!subteam^S0DBA>", groups) == '<span class="bk-mention">@dba-oncall</span>'
    )
    assert render_mrkdwn("<!subteam^S0DBA|@old>", groups).endswith(">@dba-oncall</span>")
    assert render_mrkdwn("<!subteam^S0GONE>", groups).endswith(">@S0GONE</span>")


def test_preformatted_blocks_line_breaks_and_emoji() -> None:
    html = render_mrkdwn(
        ":white_check_mark: done\n```a *not bold*\n&lt;b&gt;```\n:made_up:", PEOPLE
    )
    assert html == ('✅ done<br><pre class="bk-pre">a *not bold*\n&lt;b&gt;</pre><br>:made_up:')


def test_a_message_part_the_renderer_does_not_draw_is_shown_as_such() -> None:
    html = render_message({"text": "t", "attachments": [{"text": "legacy"}]}, PEOPLE)
    assert "unsupported message part type: attachments" in html


def test_an_unknown_time_zone_is_one_clear_error() -> None:
    with pytest.raises(ValueError, match="unknown time zone: 'Mars/Olympus'"):
        Directory(users={}, tz="Mars/Olympus")


def test_a_bare_url_is_linked_as_slack_does_and_keeps_its_underscores() -> None:
    html = render_mrkdwn("see https://x.test/a_b_c?d=1&amp;e=2. _then_ (https://y.test)", PEOPLE)
    assert html == (
        'see <a class="bk-link" href="https://x.test/a_b_c?d=1&amp;e=2" target="_blank" '
        'rel="noopener noreferrer">https://x.test/a_b_c?d=1&amp;e=2</a>. <i>then</i> '
        '(<a class="bk-link" href="https://y.test" target="_blank" rel="noopener noreferrer">'
        "https://y.test</a>)"
    )
    assert render_mrkdwn("ftp://x.test javascript:alert(1)", PEOPLE) == (
        "ftp://x.test javascript:alert(1)"
    )


RENDERER_MODULES = sorted(
    path
    for pattern in ("blockkit_html*.py", "mrkdwn_*.py", "rich_text_html.py", "html_safety.py")
    for path in (Path(__file__).parents[2] / "emulators" / "slack").glob(pattern)
)


@pytest.mark.parametrize("path", RENDERER_MODULES, ids=lambda p: p.name)
def test_the_renderer_is_pure_stdlib_and_its_own_modules_only(path: Path) -> None:
    own = {f"emulators.slack.{p.stem}" for p in RENDERER_MODULES}
    imported: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    foreign = {
        name
        for name in imported
        if name not in own and name.split(".")[0] not in sys.stdlib_module_names
    }
    assert foreign == set()
    assert len(RENDERER_MODULES) >= 8
