"""Malformed Block Kit never makes the renderer raise, and its HTML stays well-formed.

The console renders whatever an app sent (the emulator stores invalid payloads too, to
report them), so every field of the product's golden payloads is replaced, one at a
time and at random, by a value of the wrong shape; rendering must still succeed.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.slack.blockkit_html import Directory, render_message, render_options, render_view
from tests.emulators.html_checks import parse

GOLDEN = sorted(Path(__file__).parent.parent.glob("*/golden/*.json"))
VIEWER = Directory(users={"U0DAVE": "Dave"}, tz="Europe/Berlin")
WRONG_SHAPES: list[Any] = [
    None,
    True,
    0,
    -1,
    1.5,
    "",
    "<b>x</b>",
    "9" * 5000,
    [],
    [None],
    {},
    {"type": "plain_text"},
    {"type": "mrkdwn", "text": 5},
    {"type": "unknown_thing"},
]


def _paths(node: Any, path: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield path
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _paths(value, (*path, index))


def _replace(document: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    copied = copy.deepcopy(document)
    node = copied
    for step in path[:-1]:
        node = node[step]
    node[path[-1]] = value
    return copied


def _render_any(payload: Any) -> str:
    if not isinstance(payload, dict):
        return ""
    if "callback_id" in payload:
        errors = {"reason": 5, "x": None, "profile": ["a"]}
        return render_view(payload, VIEWER, errors=errors)  # type: ignore[arg-type]
    if "options" in payload or "option_groups" in payload:
        return render_options(payload)
    return render_message(payload, VIEWER)


# A state like the emulator keeps for an open view, so that its shape is broken too.
STATE = {
    "values": {
        "profile": {"profile_select": {"type": "static_select", "selected_option": {"value": "x"}}},
        "reason": {"reason_input": {"type": "plain_text_input", "value": "why"}},
    }
}


def _payloads(document: Any) -> Iterator[dict[str, Any]]:
    if isinstance(document, dict):
        if "callback_id" in document:
            yield {**document, "state": copy.deepcopy(STATE)}
            return
        if "blocks" in document or "options" in document or "option_groups" in document:
            yield document
            return
        for value in document.values():
            yield from _payloads(value)


@pytest.mark.parametrize("path", GOLDEN, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_any_field_of_the_wrong_shape_still_renders(path: Path) -> None:
    chance = random.Random(path.name)  # deterministic per file
    document = json.loads(path.read_text(encoding="utf-8"))
    for payload in list(_payloads(document))[:3]:
        paths = list(_paths(payload))
        for where in chance.sample(paths, min(40, len(paths))):
            broken = _replace(payload, where, chance.choice(WRONG_SHAPES))
            parse(_render_any(broken))
