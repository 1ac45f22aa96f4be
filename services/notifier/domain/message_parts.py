"""Pieces several messages share: the request summary, buttons, the request id line."""

from __future__ import annotations

from slack_sdk.models.blocks import (
    ButtonElement,
    ContextBlock,
    MarkdownTextObject,
    SectionBlock,
)

from services.notifier.domain.context import NotifyContext
from services.notifier.domain.formatting import device_name, duration, name
from services.notifier.domain.request_view import RequestView
from shared.slack_ids import ActionId, AgainValue, BlockId, ButtonValue
from shared.slack_limits import SECTION_FIELD, SECTION_TEXT, Part, fit, user_text

NO_REASON = "_no reason given_"


def profile_label(view: RequestView, ctx: NotifyContext) -> str:
    """What the profile is called in Slack (description), else its id."""
    return name(view.profile_description or ctx.profile_description or view.profile_id or "?")


def device_label(view: RequestView) -> str:
    """The device's name once a snapshot is known; its id until then."""
    if view.device is not None:
        return device_name(view.device)
    return f"`{name(view.device_id)}`" if view.device_id else "?"


def quote(text: str | None) -> Part:
    """User-typed text, escaped and quoted; shortened (never its quotes) when it must fit."""
    return user_text(text, "“", "”") if text else NO_REASON


def line(*parts: Part) -> str:
    """A line of a section's text, within Slack's limit for it."""
    return fit(SECTION_TEXT, *parts)


def section(block_id: BlockId, *parts: Part) -> SectionBlock:
    """A section whose text is `parts` fitted to Slack's limit."""
    return SectionBlock(block_id=block_id.value, text=MarkdownTextObject(text=line(*parts)))


def field(label: str, *parts: Part) -> MarkdownTextObject:
    """One `fields` item: a bold label over its value, within the item limit."""
    return MarkdownTextObject(text=fit(SECTION_FIELD, f"*{label}*\n", *parts))


def summary_fields(view: RequestView, ctx: NotifyContext) -> SectionBlock:
    """Access, device, duration and reason as section fields."""
    length = duration(view.duration_seconds) if view.duration_seconds else "?"
    fields = [
        field("Access", profile_label(view, ctx)),
        field("Device", device_label(view)),
        field("Duration", length),
        field("Reason", quote(view.reason)),
    ]
    return SectionBlock(block_id=BlockId.SUMMARY.value, fields=fields)


def status_section(text: str) -> SectionBlock:
    """The one line saying where things stand."""
    return section(BlockId.STATUS, text)


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


def again_button(view: RequestView) -> ButtonElement | None:
    """ "Request again": the form, filled in as this request was (None without a profile)."""
    if view.profile_id is None:
        return None
    value = AgainValue(
        request_id=view.request_id,
        profile_id=view.profile_id,
        device_id=view.device_id,
        duration_seconds=view.duration_seconds,
        reason=view.reason or "",
    ).encode()
    return ButtonElement(text="Request again", action_id=ActionId.REQUEST_AGAIN.value, value=value)
