"""`shared.block_dicts.as_dict` is `to_dict`: the same dict for every block any golden
file pins, and the same SlackObjectFormationError for blocks that break Block Kit's rules."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    ButtonElement,
    ConfirmObject,
    ContextBlock,
    HeaderBlock,
    MarkdownTextObject,
    Option,
    SectionBlock,
    StaticSelectElement,
)

from shared.block_dicts import as_dict

GOLDEN_FILES = sorted(Path(__file__).parent.parent.glob("*/golden/*.json"))


def _blocks(document: Any) -> Iterator[dict[str, Any]]:
    if isinstance(document, dict):
        if isinstance(document.get("blocks"), list):
            yield from document["blocks"]
        for value in document.values():
            yield from _blocks(value)
    elif isinstance(document, list):
        for value in document:
            yield from _blocks(value)


def golden_blocks() -> list[dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    for path in GOLDEN_FILES:
        for block in _blocks(json.loads(path.read_text(encoding="utf-8"))):
            if isinstance(block, dict) and "type" in block:
                found.setdefault(json.dumps(block, sort_keys=True), block)
    return list(found.values())


def test_every_golden_block_serialises_as_slack_sdk_serialises_it() -> None:

    blocks = golden_blocks()
    kinds = {block["type"] for block in blocks}
    assert {"section", "context", "actions", "input"} <= kinds, kinds
    for raw in blocks:
        block = Block.parse(raw)
        assert block is not None, raw
        assert as_dict(block) == block.to_dict(), raw


LONG = "x" * 3001

BROKEN = [
    SectionBlock(text=LONG),
    HeaderBlock(text="h" * 151),
    ContextBlock(elements=[MarkdownTextObject(text="c")] * 11),
    ActionsBlock(elements=[ButtonElement(text="b" * 76, action_id="a")]),
    ActionsBlock(
        elements=[
            ButtonElement(
                text="ok",
                action_id="a",
                confirm=ConfirmObject(title="t" * 101, text="sure?"),
            )
        ]
    ),
    SectionBlock(
        text="pick",
        accessory=StaticSelectElement(
            action_id="s", options=[Option(value="v", text="o" * 76)], placeholder="p"
        ),
    ),
]


@pytest.mark.parametrize("block", BROKEN, ids=lambda b: type(b).__name__)
def test_a_block_breaking_the_rules_raises_what_to_dict_raises(block: Block) -> None:
    with pytest.raises(SlackObjectFormationError) as theirs:
        block.to_dict()
    with pytest.raises(SlackObjectFormationError) as ours:
        as_dict(block)
    assert str(ours.value) == str(theirs.value)
