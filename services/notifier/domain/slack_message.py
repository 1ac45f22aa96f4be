"""A message as the notifier posts it: fallback text plus Block Kit blocks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from slack_sdk.errors import SlackObjectFormationError
from slack_sdk.models.blocks import Block

from shared.block_dicts import as_dict
from shared.slack_limits import MESSAGE_BLOCKS, MESSAGE_TEXT, clip_mrkdwn


class MessageFormationError(Exception):
    """The blocks cannot be serialised within Block Kit's rules (a builder bug): Slack
    would refuse the message, so it is handled like Slack's own `invalid_blocks`."""


@dataclass(frozen=True)
class SlackMessage:
    """`text` is what notifications and screen readers show; `blocks` what people see.

    The blocks are turned into dicts (and validated) once per message, on first use,
    and those into JSON once: the digest and every Slack call with this message (an
    approver's copies share one) reuse that text. Blocks must not be mutated
    after the message is built.
    """

    text: str
    blocks: tuple[Block, ...]

    def __post_init__(self) -> None:
        # The fallback text repeats the blocks' words: keep it within what Slack shows.
        object.__setattr__(self, "text", clip_mrkdwn(self.text, MESSAGE_TEXT))

    @cached_property
    def _blocks_dicts(self) -> tuple[dict[str, Any], ...]:
        if len(self.blocks) > MESSAGE_BLOCKS:
            raise MessageFormationError(f"{len(self.blocks)} blocks; at most {MESSAGE_BLOCKS}")
        try:
            return tuple(as_dict(block) for block in self.blocks)
        except SlackObjectFormationError as exc:
            raise MessageFormationError(str(exc)) from exc

    @cached_property
    def _blocks_text(self) -> str:
        return json.dumps(self._blocks_dicts, sort_keys=True, separators=(",", ":"))

    @cached_property
    def _digest(self) -> str:
        # The sorted, compact JSON of `as_json()` ("blocks" sorts before "text"), built
        # from the blocks' JSON the Slack call sends too.
        raw = f'{{"blocks":{self._blocks_text},"text":{json.dumps(self.text)}}}'
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def blocks_json(self) -> list[dict[str, Any]]:
        """The blocks as Slack's API takes them (shared dicts: do not mutate).

        Raises MessageFormationError when they break Block Kit's rules.
        """
        return list(self._blocks_dicts)

    def blocks_text(self) -> str:
        """The blocks as one JSON array (keys sorted, compact), serialised once per message.

        Raises MessageFormationError when they break Block Kit's rules.
        """
        return self._blocks_text

    def as_json(self) -> dict[str, Any]:
        """Text and blocks, as golden files pin them."""
        return {"text": self.text, "blocks": self.blocks_json()}

    def digest(self) -> str:
        """Identifies the content, so an unchanged message is not updated again."""
        return self._digest
