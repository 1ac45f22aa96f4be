"""Audit comments: at most 200 characters, the essentials kept, cut safely."""

from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from services.grants.domain.comment import (
    ELLIPSIS,
    MAX_COMMENT_CHARS,
    extension_comment,
    grant_comment,
    truncate,
)

RID = "01JDQ3F8ZK6W2M9V1T4B7N5C0X"


def test_short_comment_names_everyone_and_the_reason():
    text = grant_comment(
        request_id=RID,
        requester="carol@example.com",
        approvers=["alice@example.com", "bob@example.com"],
        reason="Investigating INC-4211",
    )
    assert text == (
        f"Accessbot {RID}: requested by carol@example.com; approved by "
        "alice@example.com, bob@example.com; reason: Investigating INC-4211"
    )


def test_long_reason_is_shortened_first():
    text = grant_comment(
        request_id=RID,
        requester="carol@example.com",
        approvers=["alice@example.com"],
        reason="x" * 3000,
    )
    assert len(text) == MAX_COMMENT_CHARS
    assert "requested by carol@example.com; approved by alice@example.com; reason: xxx" in text
    assert text.endswith(ELLIPSIS)


def test_many_approvers_are_summarised():
    approvers = [f"approver{i}@example.com" for i in range(20)]
    text = grant_comment(
        request_id=RID, requester="carol@example.com", approvers=approvers, reason="r"
    )
    assert len(text) <= MAX_COMMENT_CHARS
    assert "approver0@example.com" in text
    assert "more" in text


def test_control_characters_and_newlines_become_spaces():
    text = grant_comment(
        request_id=RID,
        requester="carol@example.com",
        approvers=["a@example.com"],
        reason="a\nb\t\x00c",
    )
    assert text.endswith("reason: a b c")


def test_truncation_never_strands_a_combining_mark():
    text = "e" * 8 + "e\u0301" + "tail"  # an e with a combining acute accent at the cut
    cut = truncate(text, 10)
    assert cut == "e" * 8 + ELLIPSIS
    assert not any(unicodedata.combining(ch) for ch in cut)


def test_extension_comment_names_the_time_added():
    text = extension_comment(
        request_id=RID, requester="carol@example.com", added="1h", approvers=["alice@example.com"]
    )
    assert (
        text == f"Accessbot {RID}: extended 1h for carol@example.com; approved by alice@example.com"
    )


@given(
    requester=st.emails(),
    approvers=st.lists(st.emails(), max_size=30),
    reason=st.text(max_size=3000),
)
def test_any_comment_fits_and_is_one_clean_line(requester, approvers, reason):
    text = grant_comment(request_id=RID, requester=requester, approvers=approvers, reason=reason)
    assert len(text) <= MAX_COMMENT_CHARS
    assert text.startswith(f"Accessbot {RID}")
    assert not any(unicodedata.category(ch) in ("Cc", "Cs", "Zl", "Zp") for ch in text)
    if len(requester) < 100:
        assert requester in text
