"""The depth check that runs before any JSON parser: right, and linear on hostile text."""

from __future__ import annotations

import json
import time

import pytest

from services.intake.domain.payload_bounds import MAX_JSON_DEPTH, json_depth_within


@pytest.mark.parametrize(
    ("text", "limit", "within"),
    [
        ('{"a": [[]]}', 3, True),
        ('{"a": [[]]}', 2, False),
        ('{"a": "[[[[{{{{"}', 1, True),  # brackets inside strings do not count
        ('{"a": "\\"[[[[\\""}', 1, True),  # nor after an escaped quote
        ('{"a": "\\\\", "b": [[]]}', 2, False),  # an escaped backslash ends the escape
        ("[" * MAX_JSON_DEPTH + "]" * MAX_JSON_DEPTH, MAX_JSON_DEPTH, True),
        ("[" * (MAX_JSON_DEPTH + 1), MAX_JSON_DEPTH, False),
    ],
)
def test_depth_counts_brackets_outside_strings(text: str, limit: int, within: bool) -> None:
    assert json_depth_within(text, limit) is within


def test_a_real_sized_view_is_within_the_limit() -> None:
    section = {"type": "section", "text": {"type": "mrkdwn", "text": "x" * 2900}}
    view = {"view": {"blocks": [section] * 100, "state": {"values": {"b": {"a": {}}}}}}
    assert json_depth_within(json.dumps(view))


@pytest.mark.parametrize(
    "hostile",
    ['\\"' * 500_000, '"\\"' * 330_000, '["' + "\\" * 999_999, '"' + "a" * 1_000_000],
    ids=["escaped-quotes", "quote-escape-quote", "backslashes", "unterminated"],
)
def test_hostile_megabyte_is_checked_in_one_pass(hostile: str) -> None:
    started = time.perf_counter()
    json_depth_within(hostile)
    # A rescan per quote would take minutes on this input.
    assert time.perf_counter() - started < 2.0
