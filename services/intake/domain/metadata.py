"""What a modal carries through Slack in `private_metadata` (at most 3000 characters).

Intake keeps no state: the ids a modal acts on (request, extension, profile) and
when the button that opened it was pressed ride along with the view, so a
resubmitted view carries the same ids and publishes with the same event id.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from shared.ids import is_valid_id
from shared.slack_limits import PRIVATE_METADATA

MAX_PRIVATE_METADATA = PRIVATE_METADATA


@dataclass(frozen=True, slots=True)
class ModalMetadata:
    """Ids a modal acts on; which are set depends on the modal."""

    request_id: str
    profile_id: str | None = None
    extension_id: str | None = None
    pressed_at: str | None = None  # the opening button's action_ts

    def encode(self) -> str:
        """Compact JSON; short keys keep far below Slack's limit."""
        fields = {
            "r": self.request_id,
            "p": self.profile_id,
            "x": self.extension_id,
            "t": self.pressed_at,
        }
        data = {key: value for key, value in fields.items() if value is not None}
        text = json.dumps(data, separators=(",", ":"))
        if len(text) > MAX_PRIVATE_METADATA:
            raise ValueError(f"private_metadata would exceed {MAX_PRIVATE_METADATA} characters")
        return text

    @classmethod
    def decode(cls, raw: str | None) -> ModalMetadata:
        """ValueError when the text is not metadata this service wrote."""
        try:
            data = json.loads(raw or "")
        except json.JSONDecodeError:
            raise ValueError("private_metadata is not JSON") from None
        if not isinstance(data, dict) or not is_valid_id(str(data.get("r", ""))):
            raise ValueError("private_metadata has no request id")
        if "x" in data and not is_valid_id(str(data["x"])):
            raise ValueError("private_metadata has a malformed extension id")

        def text(key: str) -> str | None:
            value = data.get(key)
            return value if isinstance(value, str) else None

        return cls(
            request_id=str(data["r"]),
            profile_id=text("p"),
            extension_id=text("x"),
            pressed_at=text("t"),
        )
