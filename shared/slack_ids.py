"""Every Slack action_id, callback_id and block_id Accessbot uses, in one module.

Intake (which handles interactions) and notifier (which posts the messages whose
buttons intake handles) both build Block Kit from these; neither imports the other.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum


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
    EXTEND_DURATION = "extend_duration"
    EXTEND_REASON = "extend_reason"
    SUMMARY = "summary"
    DETAILS = "details"
    STATUS = "status"
    NUDGE = "nudge"  # a pending request's reminder or escalation line
    ACTIONS = "actions"


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
    OPEN_DEVICE = "open_device"  # link button to the Tailscale admin console


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
