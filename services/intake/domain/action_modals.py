"""The small modals behind message buttons: Deny, Revoke and Extend (Block Kit, pure)."""

from __future__ import annotations

from datetime import datetime, timedelta

from slack_sdk.models.blocks import (
    Block,
    ContextBlock,
    InputBlock,
    MarkdownTextObject,
    Option,
    PlainTextInputElement,
    StaticSelectElement,
)
from slack_sdk.models.views import View

from services.intake.domain.durations_text import human_duration
from services.intake.domain.metadata import ModalMetadata
from shared.durations import presets_up_to
from shared.slack_ids import ActionId, BlockId, CallbackId
from shared.slack_limits import MAX_REASON, TEXT_OBJECT, clip_mrkdwn, escape_mrkdwn
from shared.wording import slack_date


def _reason_input(
    block_id: BlockId, action_id: ActionId, *, optional: bool, placeholder: str, initial: str = ""
) -> InputBlock:
    return InputBlock(
        block_id=block_id,
        label="Reason",
        optional=optional,
        element=PlainTextInputElement(
            action_id=action_id,
            multiline=True,
            max_length=MAX_REASON,
            placeholder=placeholder,
            initial_value=initial[:MAX_REASON] or None,
        ),
    )


def _note(text: str) -> ContextBlock:
    return ContextBlock(elements=[MarkdownTextObject(text=text)])


def deny_modal(metadata: ModalMetadata) -> View:
    """Deny with an optional reason the requester will read."""
    return View(
        type="modal",
        callback_id=CallbackId.DENY_MODAL,
        title="Deny request",
        submit="Deny",
        close="Back",
        private_metadata=metadata.encode(),
        blocks=[
            _reason_input(
                BlockId.DENY_REASON,
                ActionId.DENY_REASON_INPUT,
                optional=True,
                placeholder="Why not? The requester sees this.",
            ),
            _note("The requester is told who denied the request, with your reason."),
        ],
    )


def revoke_modal(metadata: ModalMetadata) -> View:
    """Confirm ending access now, with an optional reason."""
    return View(
        type="modal",
        callback_id=CallbackId.REVOKE_MODAL,
        title="Revoke access",
        submit="Revoke",
        close="Back",
        private_metadata=metadata.encode(),
        blocks=[
            _note("Access ends now: the attribute is removed from the device at once."),
            _reason_input(
                BlockId.REVOKE_REASON,
                ActionId.REVOKE_REASON_INPUT,
                optional=True,
                placeholder="Why? It goes into the audit log.",
            ),
        ],
    )


def extend_modal(
    metadata: ModalMetadata,
    *,
    maximum: timedelta,
    require_reason: bool,
    offer: str | None = None,
    reason: str = "",
) -> View:
    """Ask for more time: a duration up to `maximum`, and why.

    `offer`: why the request form became this (the access is active already; see
    `extend_offer`), shown first; `reason`: what the form's reason said, kept."""
    options = [
        Option(value=str(int(d.total_seconds())), text=human_duration(d))
        for d in presets_up_to(maximum)
    ]
    reason_input = _reason_input(
        BlockId.EXTEND_REASON,
        ActionId.EXTEND_REASON_INPUT,
        optional=not require_reason,
        placeholder="Why do you need more time?",
        initial=reason,
    )
    offered: list[Block] = []
    if offer is not None:
        offered.append(
            ContextBlock(
                block_id=BlockId.EXTEND_OFFER,
                elements=[MarkdownTextObject(text=clip_mrkdwn(offer, TEXT_OBJECT))],
            )
        )
    return View(
        type="modal",
        callback_id=CallbackId.EXTEND_MODAL,
        title="Extend access",
        submit="Ask for more",
        close="Back" if offer is None else "Cancel",
        private_metadata=metadata.encode(),
        blocks=[
            *offered,
            InputBlock(
                block_id=BlockId.EXTEND_DURATION,
                label="Additional time",
                element=StaticSelectElement(
                    action_id=ActionId.EXTEND_DURATION_SELECT,
                    placeholder="How much longer?",
                    options=options,
                ),
            ),
            reason_input,
            _note("The extension is checked against the profile's limits and may need approval."),
        ],
    )


def extend_offer(*, profile: str, device: str, until: datetime | None, request_id: str) -> str:
    """Why the request form became the Extend form: this access is active on this device
    already, under the requester's own request (mrkdwn; names escaped)."""
    when = f" until {slack_date(until)}" if until is not None else ""
    return (
        f"*{escape_mrkdwn(profile)}* is already active on *{escape_mrkdwn(device)}*{when} "
        f"(request `{request_id}`). One device, one profile, one grant: ask for more time "
        "on it instead."
    )
