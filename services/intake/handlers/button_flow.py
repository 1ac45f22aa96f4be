"""Buttons on the notifier's messages, and the small modals some of them open.

Intake records who clicked what; approvals and grants decide whether it counts.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta

import structlog

from services.intake.domain.action_modals import deny_modal, extend_modal, revoke_modal
from services.intake.domain.form_state import selected_value, text_value
from services.intake.domain.interactions import ButtonPressed, ViewSubmitted
from services.intake.domain.metadata import ModalMetadata
from services.intake.domain.validation import FieldErrors, validate_extension
from services.intake.handlers.handling import Deps, Handle, action_time, id_time, within_budget
from shared.contracts.events import (
    CancelRequest,
    Command,
    DecideRequest,
    Decision,
    ExtendGrant,
    Person,
    RevokeGrant,
)
from shared.ids import is_valid_id, new_id
from shared.slack_ids import ActionId, BlockId, ButtonValue, CallbackId

log = structlog.get_logger("accessbot.intake")

NO_EMAIL_CLICK = (
    "Accessbot cannot see your Slack email address, so your click was not recorded. "
    "Ask an admin to check the app's users:read.email scope."
)
# A click is acked before it is published, so its publish may wait out a stream leader
# election (a cluster node lost: up to ~10 s) instead of asking the person to press again.
CLICK_PATIENCE_SECONDS = 15.0
NOT_RECORDED = "Accessbot could not record your click just now; please press it again."
NO_EMAIL_FORM = "Accessbot cannot see your Slack email address, so it cannot record this."
SLACK_SLOW = "Slack did not answer in time; please submit again."
NOT_SAVED = "This could not be recorded just now; please try again."
OUTDATED = "This form is out of date; close it and press the button again."


def _button_value(raw: str) -> ButtonValue:
    value = ButtonValue.decode(raw)
    if not is_valid_id(value.request_id) or (
        value.extension_id is not None and not is_valid_id(value.extension_id)
    ):
        raise ValueError("button value holds a malformed id")
    return value


class ButtonFlow:
    """Handlers of message buttons and of the Deny / Revoke / Extend modals."""

    def __init__(self, deps: Deps) -> None:
        self._deps = deps

    async def pressed(self, pressed: ButtonPressed, handle: Handle) -> None:
        """Ack at once; then publish (Approve, Cancel) or open a modal (Deny, Revoke, Extend)."""
        await handle.ack(None)
        try:
            value = _button_value(pressed.value)
        except ValueError:
            handle.trace.outcome = "bad_button_value"
            return
        handle.trace.bind(value.request_id)
        if value.extension_id:
            handle.trace.details["extension_id"] = value.extension_id
        rid, ext = value.request_id, value.extension_id
        if pressed.action_id is ActionId.APPROVE:
            await self._record(
                pressed,
                handle,
                lambda actor: DecideRequest(
                    request_id=rid, decider=actor, decision=Decision.APPROVE, extension_id=ext
                ),
            )
        elif pressed.action_id is ActionId.CANCEL:
            await self._record(
                pressed, handle, lambda actor: CancelRequest(request_id=rid, actor=actor)
            )
        else:
            await self._open_modal(pressed, value, handle)

    async def _record(
        self, pressed: ButtonPressed, handle: Handle, build: Callable[[Person], Command]
    ) -> None:
        try:
            actor = await self._deps.people.person(pressed.user_id)
            if actor is None:
                handle.trace.outcome = "no_identity"
                await self._tell(pressed, NO_EMAIL_CLICK)
                return
            await handle.publish(
                build(actor),
                # the same click (user, moment, button) always gets the same event id
                key=f"{pressed.action_id.value}:{pressed.user_id}:{pressed.action_ts}:"
                f"{pressed.value}",
                moment=action_time(pressed.action_ts),
                patience=CLICK_PATIENCE_SECONDS,
            )
        except Exception:
            log.exception("intake.click_not_recorded", action=pressed.action_id.value)
            handle.trace.outcome = "publish_failed"
            await self._tell(pressed, NOT_RECORDED)

    async def _tell(self, pressed: ButtonPressed, text: str) -> None:
        """An ephemeral note where the button was; from the Home tab (a view, no channel)
        a DM, the one place Slack lets the app tell only them."""
        try:
            if pressed.channel_id is None:
                await self._deps.views.post_direct(pressed.user_id, text)
                return
            await self._deps.views.post_ephemeral(pressed.channel_id, pressed.user_id, text)
        except Exception as exc:  # noqa: BLE001 - telling the user is best effort
            log.warning("intake.ephemeral_failed", error=repr(exc))

    async def _open_modal(self, pressed: ButtonPressed, value: ButtonValue, handle: Handle) -> None:
        metadata = ModalMetadata(
            request_id=value.request_id,
            profile_id=value.profile_id,
            extension_id=value.extension_id,
            pressed_at=pressed.action_ts,
        )
        if pressed.action_id is ActionId.DENY:
            view = deny_modal(metadata)
        elif pressed.action_id is ActionId.REVOKE:
            view = revoke_modal(metadata)
        else:  # Extend: the extension is born with its modal (resubmits keep its id)
            maximum, require_reason = self._extension_limits(value.profile_id)
            view = extend_modal(
                replace(metadata, extension_id=new_id()),
                maximum=maximum,
                require_reason=require_reason,
            )
        await self._deps.views.open_view(pressed.trigger_id, view)
        handle.trace.outcome = "modal_opened"
        try:  # the submission needs the clicker's email before its ack: look it up now
            await self._deps.people.person(pressed.user_id)
        except Exception as exc:  # noqa: BLE001 - only a cache warm-up
            log.warning("intake.identity_warmup_failed", error=repr(exc))

    def _extension_limits(self, profile_id: str | None) -> tuple[timedelta, bool]:
        """The profile's maximum and reason rule; unknown profile: the longest, reason asked."""
        profiles = self._deps.profiles
        profile = profiles.get(profile_id) if profile_id else None
        if profile is not None:
            return profiles.max_duration(profile), profile.require_reason
        return max(profiles.max_duration(p) for p in profiles.profiles), True

    async def submitted(self, submitted: ViewSubmitted, handle: Handle) -> None:
        """A Deny, Revoke or Extend modal was submitted."""
        reason_block = {
            CallbackId.DENY_MODAL: BlockId.DENY_REASON,
            CallbackId.REVOKE_MODAL: BlockId.REVOKE_REASON,
            CallbackId.EXTEND_MODAL: BlockId.EXTEND_REASON,
        }[submitted.callback_id].value
        try:
            metadata = ModalMetadata.decode(submitted.private_metadata)
        except ValueError:
            await handle.reject({reason_block: OUTDATED}, "bad_metadata")
            return
        handle.trace.bind(metadata.request_id)
        try:
            actor = await within_budget(self._deps.people.person(submitted.user_id))
        except TimeoutError:
            await handle.reject({reason_block: SLACK_SLOW}, "slack_slow")
            return
        if actor is None:
            await handle.reject({reason_block: NO_EMAIL_FORM}, "no_identity")
            return
        built = self._event(submitted, metadata, actor)
        if isinstance(built, dict):
            await handle.reject(built)
            return
        try:
            await handle.publish(built.event, key=built.key, moment=built.moment)
        except Exception:
            log.exception("intake.publish_failed", subject=built.event.SUBJECT.value)
            await handle.reject({reason_block: NOT_SAVED}, "publish_failed")
            return
        await handle.ack(None)

    def _event(
        self, submitted: ViewSubmitted, metadata: ModalMetadata, actor: Person
    ) -> _Prepared | FieldErrors:
        values = submitted.values
        rid = metadata.request_id
        if submitted.callback_id is CallbackId.EXTEND_MODAL:
            if metadata.extension_id is None:
                return {BlockId.EXTEND_REASON.value: OUTDATED}
            maximum, require_reason = self._extension_limits(metadata.profile_id)
            checked = validate_extension(
                selected_value(values, ActionId.EXTEND_DURATION_SELECT),
                text_value(values, ActionId.EXTEND_REASON_INPUT),
                maximum=maximum,
                require_reason=require_reason,
            )
            if isinstance(checked, dict):
                return checked
            seconds, reason = checked
            ext = metadata.extension_id
            event: Command = ExtendGrant(
                request_id=rid,
                extension_id=ext,
                actor=actor,
                additional_seconds=seconds,
                reason=reason,
            )
            # The extension id was born with the modal: one submission per extension.
            return _Prepared(event, f"extend:{ext}", id_time(ext))
        if submitted.callback_id is CallbackId.DENY_MODAL:
            event = DecideRequest(
                request_id=rid,
                decider=actor,
                decision=Decision.DENY,
                reason=text_value(values, ActionId.DENY_REASON_INPUT).strip() or None,
                extension_id=metadata.extension_id,
            )
        else:
            event = RevokeGrant(
                request_id=rid,
                actor=actor,
                reason=text_value(values, ActionId.REVOKE_REASON_INPUT).strip() or None,
            )
        # One event per modal (a view id is unique); the press moment orders the id.
        key = f"{submitted.callback_id.value}:{submitted.view_id}"
        return _Prepared(event, key, action_time(metadata.pressed_at))


@dataclass(frozen=True, slots=True)
class _Prepared:
    """An event ready to publish, with what its deterministic id derives from."""

    event: Command
    key: str
    moment: datetime
