"""A message as the notifier posts it: fallback text plus Block Kit blocks."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

from slack_sdk.models.blocks import Block


@dataclass(frozen=True)
class SlackMessage:
    """`text` is what notifications and screen readers show; `blocks` what people see."""

    text: str
    blocks: tuple[Block, ...]

    def blocks_json(self) -> list[dict[str, Any]]:
        """The blocks as Slack's API takes them."""
        return [block.to_dict() for block in self.blocks]

    def as_json(self) -> dict[str, Any]:
        """Text and blocks, as golden files pin them."""
        return {"text": self.text, "blocks": self.blocks_json()}

    def digest(self) -> str:
        """Identifies the content, so an unchanged message is not updated again."""
        raw = json.dumps(self.as_json(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(raw.encode()).hexdigest()[:16]
