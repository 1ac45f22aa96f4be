"""The one dispatcher behind both transports.

A transport hands over each interaction payload with a way to ack it; the
dispatcher recognises repeats, routes to the handler, makes sure Slack gets
exactly one ack (early: before anything slow), and logs one canonical line.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import structlog

from services.intake.domain.interactions import (
    ApproverSuggestion,
    ButtonPressed,
    DeviceSuggestion,
    HomeOpened,
    Ignored,
    Interaction,
    ProfileChosen,
    ProfileSuggestion,
    ShortcutPressed,
    Suggestion,
    ViewSubmitted,
    delivery_key,
    parse_interaction,
)
from services.intake.domain.metadata import ModalMetadata
from services.intake.handlers.button_flow import ButtonFlow
from services.intake.handlers.deliveries import RecentDeliveries
from services.intake.handlers.handling import PRE_ACK_BUDGET_SECONDS, Acker, Deps, Handle, Trace
from services.intake.handlers.home_flow import HomeFlow
from services.intake.handlers.request_flow import RequestFlow
from services.intake.ports import Ack, AckBody
from shared.slack_ids import ActionId, ButtonValue, CallbackId

log = structlog.get_logger("accessbot.intake")


_NAMES: dict[type, str] = {
    ShortcutPressed: CallbackId.REQUEST_SHORTCUT.value,
    ProfileChosen: ActionId.PROFILE_SELECT.value,
    DeviceSuggestion: ActionId.DEVICE_SELECT.value,
    ProfileSuggestion: ActionId.PROFILE_SELECT.value,
    ApproverSuggestion: ActionId.APPROVER_SELECT.value,
    HomeOpened: "app_home_opened",
}


def _request_id(interaction: Interaction) -> str | None:
    """The request an interaction is about, where it says so (for logs before routing)."""
    try:
        if isinstance(interaction, ButtonPressed):
            return ButtonValue.decode(interaction.value).request_id
        if isinstance(interaction, ProfileChosen | Suggestion | ViewSubmitted):
            return ModalMetadata.decode(interaction.private_metadata).request_id
    except ValueError:
        return None
    return None


def _name(interaction: Interaction) -> str:
    """The callback or action id, for the log line."""
    if isinstance(interaction, ViewSubmitted):
        return interaction.callback_id.value
    if isinstance(interaction, ButtonPressed):
        return interaction.action_id.value
    return _NAMES.get(type(interaction), "")


class Dispatcher:
    """Routes interactions to the request form's and the buttons' handlers."""

    def __init__(self, deps: Deps, *, recent: RecentDeliveries | None = None) -> None:
        self._deps = deps
        self._recent = recent or RecentDeliveries()
        self._requests = RequestFlow(deps)
        self._buttons = ButtonFlow(deps)
        self._home = HomeFlow()

    async def deliver(
        self, payload: dict[str, Any], ack: Ack, *, retry_attempt: int | None = None
    ) -> None:
        """Handle one delivery; `ack` is called exactly once, as early as possible."""
        started = time.perf_counter()
        interaction = parse_interaction(payload)
        trace = Trace(
            kind=str(payload.get("type", "")),
            name=_name(interaction),
            user=getattr(interaction, "user_id", ""),
        )
        # Suggestions only read, so a repeat may simply be answered again.
        key = None if isinstance(interaction, Suggestion | Ignored) else delivery_key(payload)
        earlier = self._recent.claim(key) if key is not None else None
        acker = Acker(ack, started, lambda body: self._settle(key, body))
        request_id = _request_id(interaction)
        if request_id is not None:
            trace.bind(request_id)
        try:
            if earlier is not None:
                trace.outcome = "repeat_delivery"  # Slack sent it again: same ack, no work
                await acker(await self._earlier_ack(earlier))
            else:
                await self._route(interaction, Handle(self._deps, trace, acker))
        except Exception:
            trace.outcome = "error"
            log.exception("interaction.failed", type=trace.kind, name=trace.name)
            if key is not None and not acker.sent:
                self._recent.forget(key)  # a retry may do the work again
        finally:
            if not acker.sent:
                await self._ack_quietly(acker)
            log.info(
                "interaction.handled",
                type=trace.kind,
                name=trace.name,
                user=trace.user,
                outcome=trace.outcome,
                retry_attempt=retry_attempt,
                ack_ms=acker.ack_ms,
                latency_ms=round(1000 * (time.perf_counter() - started), 2),
                request_id=trace.request_id,
                **trace.details,
            )
            structlog.contextvars.unbind_contextvars("request_id", "trace_id")

    def _settle(self, key: str | None, body: AckBody) -> None:
        if key is not None:
            self._recent.settle(key, body)

    @staticmethod
    async def _earlier_ack(earlier: asyncio.Future[AckBody]) -> AckBody:
        try:
            return await asyncio.wait_for(asyncio.shield(earlier), PRE_ACK_BUDGET_SECONDS)
        except TimeoutError:
            return None

    @staticmethod
    async def _ack_quietly(acker: Acker) -> None:
        try:
            await acker(None)
        except Exception as exc:  # noqa: BLE001 - the connection may be gone; nothing to do
            log.warning("interaction.ack_failed", error=repr(exc))

    async def _route(self, interaction: Interaction, handle: Handle) -> None:
        match interaction:
            case ShortcutPressed():
                await self._requests.shortcut(interaction, handle)
            case ProfileChosen():
                await self._requests.profile_chosen(interaction, handle)
            case DeviceSuggestion():
                await self._requests.suggest_devices(interaction, handle)
            case ProfileSuggestion():
                await self._requests.suggest_profiles(interaction, handle)
            case ApproverSuggestion():
                await self._requests.suggest_approvers(interaction, handle)
            case ViewSubmitted(callback_id=CallbackId.REQUEST_MODAL):
                await self._requests.submit(interaction, handle)
            case ViewSubmitted():
                await self._buttons.submitted(interaction, handle)
            case ButtonPressed(action_id=ActionId.REQUEST_AGAIN):
                await self._requests.again(interaction, handle)
            case ButtonPressed():
                await self._buttons.pressed(interaction, handle)
            case HomeOpened():
                await self._home.opened(interaction, handle)
            case Ignored(reason=reason):
                handle.trace.details["reason"] = reason
                await handle.ack(None)
