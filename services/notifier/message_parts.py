"""Pieces several messages share: the request summary, buttons, the request id line."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from services.notifier.context import NotifyContext
from services.notifier.formatting import device_name, duration, escape
from services.notifier.request_view import RequestView
from shared.slack_ids import ActionId, BlockId, ButtonValue

NO_REASON = "_no reason given_"


def profile_label(view: RequestView, ctx: NotifyContext) -> str:
    """What the profile is called in Slack (description), else its id."""
    return escape(view.profile_description or ctx.profile_description or view.profile_id or "?")


def device_label(view: RequestView) -> str:
    """The device's name once a snapshot is known; its id until then."""
    if view.device is not None:
        return device_name(view.device)
    return f"`{escape(view.device_id)}`" if view.device_id else "?"


def quote(text: str | None) -> str:
    """User-typed text, escaped and shown as such."""
    return f"“{escape(text)}”" if text else NO_REASON


def summary_fields(view: RequestView, ctx: NotifyContext) -> SectionBlock:
    """Access, device, duration and reason as section fields."""
    length = duration(view.duration_seconds) if view.duration_seconds else "?"
    fields = [
        f"*Access*\n{profile_label(view, ctx)}",
        f"*Device*\n{device_label(view)}",
        f"*Duration*\n{length}",
        f"*Reason*\n{quote(view.reason)}",
    ]
    return SectionBlock(
        block_id=BlockId.SUMMARY.value, fields=[MarkdownTextObject(text=f) for f in fields]
    )


def status_section(text: str) -> SectionBlock:
    """The one line saying where things stand."""
    return SectionBlock(block_id=BlockId.STATUS.value, text=MarkdownTextObject(text=text))


def request_id_context(request_id: str) -> ContextBlock:
    """The request id, for anyone who has to look it up."""
    text = MarkdownTextObject(text=f"Request `{request_id}`")
    return ContextBlock(block_id=BlockId.DETAILS.value, elements=[text])


def button(
    label: str,
    action: ActionId,
    request_id: str,
    *,
    extension_id: str | None = None,
    profile_id: str | None = None,
    style: str | None = None,
) -> ButtonElement:
    """A message button intake handles; its value names the request (and extension)."""
    value = ButtonValue(
        request_id=request_id, extension_id=extension_id, profile_id=profile_id
    ).encode()
    return ButtonElement(text=label, action_id=action.value, value=value, style=style)
