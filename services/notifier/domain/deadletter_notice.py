"""The audit-channel message saying a consumer gave up on a message (a pure builder).

Every part is bounded before escaping grows it, so the section stays far below Slack's
3,000 characters whatever the error said.
"""

from __future__ import annotations

from slack_sdk.models.blocks import MarkdownTextObject, SectionBlock

from services.notifier.domain.formatting import escape
from services.notifier.domain.message_parts import request_id_context
from services.notifier.domain.slack_message import SlackMessage
from shared.contracts.events import DeliveryDeadLettered
from shared.slack_ids import BlockId

# At most 5x longer once escaped (`&` -> `&amp;`): 400 -> 2,000 characters of 3,000.
ERROR_MAX_CHARS = 400
ELLIPSIS = "…"


def _clipped(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + ELLIPSIS


def deadletter_message(event: DeliveryDeadLettered) -> SlackMessage:
    """Tells the audit channel which consumer gave up on which message, and how to replay."""
    what = f"`{escape(event.subject[:100])}`"
    summary = (
        f":rotating_light: *{escape(event.service[:64])}* gave up on {what} after "
        f"{event.deliveries} deliveries (consumer `{escape(event.consumer[:128])}`). "
        "It is kept as dead-lettered: nothing about it happens until it is replayed."
    )
    error = escape(_clipped(" ".join(event.last_error.split()), ERROR_MAX_CHARS))
    replay_id = event.event_id or f"{event.consumer}:{event.stream_sequence}"
    detail = (
        f"Last error: ```{error}```\n"
        f"Once the cause is fixed, an admin runs `accessbot deadletter replay {escape(replay_id)}`."
    )
    blocks = (
        SectionBlock(block_id=BlockId.STATUS.value, text=MarkdownTextObject(text=summary)),
        SectionBlock(text=MarkdownTextObject(text=detail)),
        request_id_context(event.request_id),
    )
    return SlackMessage(text=summary, blocks=blocks)
