"""Every Slack action_id, callback_id and block_id Accessbot uses, in one module.

Intake (which handles interactions) and notifier (which posts the messages whose
buttons intake handles) both build Block Kit from these; neither imports the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from shared.ids import is_valid_id
from shared.slack_limits import BUTTON_VALUE, ELLIPSIS, MAX_REASON, OPTION_VALUE


class CallbackId(StrEnum):
    """Shortcuts and modal callback ids."""

    REQUEST_SHORTCUT = "request_access"  # the global shortcut (also in the app manifest)
    REQUEST_MODAL = "request_access_modal"
    DENY_MODAL = "deny_reason_modal"
    EXTEND_MODAL = "extend_modal"
    REVOKE_MODAL = "revoke_reason_modal"


class BlockId(StrEnum):
    """Input blocks of the modals and sections of the messages."""

    PROFILE = "profile"
    DEVICE = "device"
    DURATION = "duration"
    APPROVER = "approver"
    APPROVERS_SHOWN = "approvers_shown"  # who can approve, where the form offers no choice
    REASON = "reason"
    DENY_REASON = "deny_reason"
    REVOKE_REASON = "revoke_reason"
    AGAIN_NOTE = "again_note"  # what a "Request again" form could not fill in
    EXTEND_OFFER = "extend_offer"  # the access asked for is active already: extend it
    EXTEND_DURATION = "extend_duration"
    EXTEND_REASON = "extend_reason"
    SUMMARY = "summary"
    DETAILS = "details"
    STATUS = "status"
    NUDGE = "nudge"  # a pending request's reminder or escalation line
    ACTIONS = "actions"
    # The App Home tab (the notifier publishes it; one block id per section and item)
    HOME_TOP = "home_top"
    HOME_ACTIVE = "home_active"
    HOME_PENDING = "home_pending"
    HOME_DECIDE = "home_decide"
    HOME_HISTORY = "home_history"


class ActionId(StrEnum):
    """Interactive elements."""

    PROFILE_SELECT = "profile_select"
    DEVICE_SELECT = "device_select"
    DURATION_SELECT = "duration_select"
    APPROVER_RADIO = "approver_radio"
    APPROVER_USER = "approver_user"  # forms opened before the approver search (still read)
    APPROVER_SELECT = "approver_select"  # searchable select of the eligible approvers
    REASON_INPUT = "reason_input"
    DENY_REASON_INPUT = "deny_reason_input"
    REVOKE_REASON_INPUT = "revoke_reason_input"
    EXTEND_DURATION_SELECT = "extend_duration_select"
    EXTEND_REASON_INPUT = "extend_reason_input"
    APPROVE = "approve"
    DENY = "deny"
    REVOKE = "revoke"
    EXTEND = "extend"
    CANCEL = "cancel"
    REQUEST_AGAIN = "request_again"  # an ended request's DM: the form, filled in as before
    OPEN_DEVICE = "open_device"  # link button to the Tailscale admin console
    HOME_REQUEST = "home_request"  # the Home tab's "Request access": the shortcut's form


def home_item_block(section: BlockId, request_id: str, part: str) -> str:
    """The block id of one request's text or buttons in a Home section (unique per view)."""
    return f"{section.value}:{request_id}:{part}"


ANY_APPROVER = "__any__"
"""Approver radio value meaning "any eligible approver"."""


@dataclass(frozen=True, slots=True)
class ButtonValue:
    """What a message button carries: the request (and extension) it acts on."""

    request_id: str
    extension_id: str | None = None
    # The request's profile, when the poster knows it: intake's Extend modal then
    # offers durations up to that profile's maximum (else up to the longest any allows).
    profile_id: str | None = None

    def encode(self) -> str:
        """Compact JSON, well under Slack's 2000-character button value limit."""
        data = {"r": self.request_id}
        if self.extension_id:
            data["x"] = self.extension_id
        if self.profile_id:
            data["p"] = self.profile_id
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def decode(cls, raw: str) -> ButtonValue:
        """Parse a button value; ValueError when it is not one of ours."""
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError(f"button value {raw[:60]!r} is not JSON") from None
        if not isinstance(data, dict) or not isinstance(data.get("r"), str):
            raise ValueError("button value has no request id")
        ext, profile = data.get("x"), data.get("p")
        return cls(
            request_id=data["r"],
            extension_id=ext if isinstance(ext, str) else None,
            profile_id=profile if isinstance(profile, str) else None,
        )


@dataclass(frozen=True, slots=True)
class AgainValue:
    """What a "Request again" button carries: the ended request and what to fill in.

    Compact and bounded: it always fits Slack's 2,000-character button value (the
    reason is shortened, with an ellipsis, when it would not). Untrusted on the way
    back: intake re-checks everything against profiles.yaml and the device index
    before filling in the form, and validates the submission as any other.
    """

    request_id: str
    profile_id: str | None = None
    device_id: str | None = None
    duration_seconds: int | None = None
    reason: str = ""

    def _data(self, reason: str) -> dict[str, Any]:
        data: dict[str, Any] = {"r": self.request_id}
        if self.profile_id:
            data["p"] = self.profile_id
        if self.device_id:
            data["d"] = self.device_id
        if self.duration_seconds:
            data["s"] = self.duration_seconds
        if reason:
            data["w"] = reason
        return data

    @staticmethod
    def _dump(data: dict[str, Any]) -> str:
        # Slack counts characters: non-ASCII letters stay letters, not \uXXXX escapes.
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False)

    def encode(self) -> str:
        """At most BUTTON_VALUE characters: the reason is clipped (the longest start that
        fits, with an ellipsis); ids that could not fit even without it (never with valid
        ids) leave only the request id."""
        reason = self.reason[:MAX_REASON]
        text = self._dump(self._data(reason))
        if len(text) <= BUTTON_VALUE:
            return text
        fits, too_long = 0, len(reason)  # how much of the reason fits: a binary search
        while too_long - fits > 1:
            middle = (fits + too_long) // 2
            if len(self._dump(self._data(reason[:middle] + ELLIPSIS))) <= BUTTON_VALUE:
                fits = middle
            else:
                too_long = middle
        kept = reason[:fits].rstrip()
        text = self._dump(self._data(kept + ELLIPSIS if kept else ""))
        if len(text) > BUTTON_VALUE:
            text = self._dump({"r": self.request_id})
        return text

    @classmethod
    def decode(cls, raw: str) -> AgainValue:
        """Parse a Request again value; ValueError when it is not one this app could write."""
        if len(raw) > BUTTON_VALUE:
            raise ValueError("request-again value is longer than a button value may be")
        try:
            data = json.loads(raw)
        except json.JSONDecodeError:
            raise ValueError("request-again value is not JSON") from None
        if not isinstance(data, dict) or not is_valid_id(str(data.get("r", ""))):
            raise ValueError("request-again value has no request id")

        def text(key: str, limit: int) -> str | None:
            value = data.get(key)
            if value is None:
                return None
            if not isinstance(value, str) or len(value) > limit:
                raise ValueError(f"request-again value has a malformed {key!r}")
            return value

        seconds = data.get("s")
        if seconds is not None and (
            not isinstance(seconds, int) or isinstance(seconds, bool) or seconds <= 0
        ):
            raise ValueError("request-again value has a malformed duration")
        return cls(
            request_id=str(data["r"]),
            profile_id=text("p", OPTION_VALUE),
            device_id=text("d", OPTION_VALUE),
            duration_seconds=seconds,
            reason=text("w", MAX_REASON) or "",
        )
