"""Fitting text into Slack's limits: clipping escaped text, sharing room, long lists."""

from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from shared.slack_limits import (
    ELLIPSIS,
    clip_mrkdwn,
    clip_plain,
    escape_mrkdwn,
    fit,
    listing,
    user_text,
)

ATOM = re.compile(r"&(?:amp|lt|gt);|<[^<>]*>")


def _intact(text: str) -> bool:
    rest = ATOM.sub("", text)
    return not any(c in rest for c in "&<>")


def test_a_clip_never_cuts_an_entity() -> None:
    text = escape_mrkdwn("&" * 10)  # "&amp;" x 10
    for limit in range(1, 50):
        clipped = clip_mrkdwn(text, limit)
        assert len(clipped) <= limit
        assert clipped.endswith(ELLIPSIS)
        assert _intact(clipped), clipped


def test_a_clip_never_cuts_a_token() -> None:
    text = "see <!date^1796030142^{date_short_pretty}|2026-11-30 09:15 UTC> and <@U0DAVE>"
    assert clip_mrkdwn(text, 30) == "see " + ELLIPSIS
    assert clip_mrkdwn(text, len(text)) == text


def test_plain_text_is_clipped_with_an_ellipsis() -> None:
    assert clip_plain("x" * 80, 75) == "x" * 74 + ELLIPSIS
    assert clip_plain("short", 75) == "short"


@given(
    prefix=st.text(alphabet="ab*", max_size=50),
    raw=st.text(alphabet="a&<>", max_size=4000),
    limit=st.integers(min_value=60, max_value=3000),
)
def test_fit_keeps_fixed_parts_and_stays_within_the_limit(
    prefix: str, raw: str, limit: int
) -> None:
    text = fit(limit, prefix, user_text(raw, "“", "”"), "!")
    assert len(text) <= limit
    assert text.startswith(prefix + "“")
    assert text.endswith("”!")
    assert _intact(text)
    if len(escape_mrkdwn(raw)) + len(prefix) + 3 <= limit:
        assert text == f"{prefix}“{escape_mrkdwn(raw)}”!"


def test_fit_lets_short_parts_keep_all_and_shares_the_rest() -> None:
    text = fit(100, "x:", user_text("short"), " / ", user_text("L" * 500))
    assert text.startswith("x:short / LLL")
    assert len(text) == 100
    assert text.endswith(ELLIPSIS)


def test_a_long_list_is_summarised_within_its_limit() -> None:
    names = [f"person{i:02d}@example.com" for i in range(60)]
    text = listing(names, "or", limit=200)
    assert len(text) <= 200
    assert text.startswith("person00@example.com, person01@example.com")
    shown = text.count("@example.com")
    assert text.endswith(f" or {60 - shown} more")
    assert listing(names[:3]) == (
        "person00@example.com, person01@example.com and person02@example.com"
    )
    assert listing(["x" * 300, "y"], limit=100) == "2 people"
