"""A message as the notifier posts it: fallback text plus Block Kit blocks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from slack_sdk.models.blocks import Block


@dataclass(frozen=True)
class SlackMessage:
    """`text` is what notifications and screen readers show; `blocks` what people see.

    The blocks are serialised (and validated) once per message, on first use; the
    digest and the Slack call reuse that serialisation. Blocks must not be mutated
    after the message is built.
    """

    text: str
    blocks: tuple[Block, ...]

    @cached_property
    def _blocks_dicts(self) -> tuple[dict[str, Any], ...]:
        return tuple(block.to_dict() for block in self.blocks)

    @cached_property
    def _digest(self) -> str:
        raw = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]

    def blocks_json(self) -> list[dict[str, Any]]:
        """The blocks as Slack's API takes them (shared dicts: do not mutate)."""
        return list(self._blocks_dicts)

    def as_json(self) -> dict[str, Any]:
        """Text and blocks, as golden files pin them."""
        return {"text": self.text, "blocks": self.blocks_json()}

    def digest(self) -> str:
        """Identifies the content, so an unchanged message is not updated again."""
        return self._digest
