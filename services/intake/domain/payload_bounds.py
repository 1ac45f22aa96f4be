"""Limits checked on an HTTP delivery's body before any JSON parser sees it.

A signed body is still not trusted to be small or shallow: Python's json module
recurses once per nesting level, so a deeply nested payload would end in a
RecursionError (and a 500 with a traceback). Slack's own payloads nest about ten
levels (view > blocks > element > options > text object) and stay far below 1 MiB.
"""

from __future__ import annotations

import re

MAX_BODY_BYTES = 1024 * 1024
MAX_JSON_DEPTH = 64

# A string (an unterminated one runs to the end: one pass, never a rescan) or a bracket.
_TOKEN = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[\]{}]', re.DOTALL)


def json_depth_within(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when no array/object in `text` nests deeper than `limit` (strings ignored).

    Counts brackets in one left-to-right pass, so it is linear and never recurses;
    whether the text is valid JSON is left to the parser.
    """
    depth = 0
    for match in _TOKEN.finditer(text):
        found = match.group()
        if found[0] == '"':
            continue
        if found in "[{":
            depth += 1
            if depth > limit:
                return False
        else:
            depth -= 1
    return True
