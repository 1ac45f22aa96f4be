"""`accessbot demo` prints Slack text as a person sees it in Slack (pure rendering)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from accessbot.demo_render import Names, clip, format_date, json_value, render_mrkdwn

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
BERLIN = timezone(timedelta(hours=1))
NAMES = Names(
    people={"U_DANA": "Dana", "U_BOB": "Bob"},
    channels={"C0AUDIT": "access-audit"},
    devices={"nodeDANA1CNTRL": "dana-framework"},
    groups={"S0DBAONCALL": "dba-oncall"},
)


def render(text: str) -> str:
    return render_mrkdwn(text, NAMES, now=NOW, tz=BERLIN)


def test_mentions_become_names() -> None:
    assert render("Approved by <@U_BOB> for <@U_DANA>") == "Approved by @Bob for @Dana"
    assert render("<@U_NOBODY> in <#C0AUDIT>") == "@U_NOBODY in #access-audit"
    assert render("<!here> see <https://x.example/a|the admin console>") == (
        "@here see the admin console"
    )


def test_user_groups_by_their_handle_never_the_raw_token() -> None:
    assert render("(from <!subteam^S0DBAONCALL>)") == "(from @dba-oncall)"
    assert render("<!subteam^S0UNKNOWN>") == "@S0UNKNOWN"


def test_emoji_shortcodes_become_emoji_as_slack_draws_them() -> None:
    assert render(":white_check_mark: *Access granted*") == "\u2705 *Access granted*"
    assert render(":made_up: at 07:39:34") == ":made_up: at 07:39:34"


def test_dates_become_local_times_in_the_tokens_format() -> None:
    stamp = int((NOW + timedelta(hours=2)).timestamp())
    text = f"until <!date^{stamp}^{{date_short_pretty}} {{time}}|2026-03-01 11:00 UTC>."
    assert render(text) == "until today 12:00."
    tomorrow = int((NOW + timedelta(days=1)).timestamp())
    assert render(f"<!date^{tomorrow}^{{date_num}} {{time_secs}}^https://x|fallback>") == (
        "2026-03-02 10:00:00"
    )
    assert render("<!date^notanumber^{time}|the fallback>") == "the fallback"


def test_slack_date_tokens() -> None:
    moment = datetime(2026, 3, 3, 14, 5, 9, tzinfo=UTC)
    assert format_date("date", moment, NOW) == "March 3rd, 2026"
    assert format_date("date_long", moment, NOW) == "Tuesday, March 3rd, 2026"
    assert format_date("date_short", moment, NOW) == "Mar 3, 2026"
    assert format_date("date_pretty", moment - timedelta(days=2), NOW) == "today"
    assert format_date("ago", NOW - timedelta(minutes=3), NOW) == "3 minutes ago"
    assert format_date("ago", NOW + timedelta(hours=1), NOW) == "in 1 hour"
    assert format_date("nonsense", moment, NOW) is None


def test_devices_by_name_and_escapes_undone() -> None:
    assert render("on `nodeDANA1CNTRL` &lt;b&gt; &amp;") == "on `dana-framework` <b> &"


def test_long_text_is_shortened_after_rendering_never_mid_token() -> None:
    stamp = int(NOW.timestamp())
    token = f"<!date^{stamp}^{{date_short_pretty}} {{time}}|2026-03-01 09:00 UTC>"
    text = "x" * 90 + " granted until " + token + " and more words after it"
    shown = clip(render(text), 110)
    assert len(shown) <= 110
    assert "<!date" not in shown
    assert "^" not in shown
    assert shown.endswith("…")


def test_values_use_json_spellings() -> None:
    values: list[object] = [True, None, "prod", 5]
    assert [json_value(v) for v in values] == ["true", "null", '"prod"', "5"]
