"""Who holds an attribute on a device (pure): the shared state of overlapping grants.

A Tailscale posture attribute is one value with one expiry per device, but two
requests can hold the same attribute on the same device. The record kept per
(device, attribute) lists the grants holding it and what grants last wrote; the
attribute's expiry is the latest end among the active holders, and it is removed
only when none is left.
"""

from __future__ import annotations

import base64
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

KEY_PREFIX = "holders."
# Grants of one attribute on one device at once; past this a grant fails (not retryable).
MAX_HOLDERS = 50


def holders_key(device_id: str, attribute: str) -> str:
    """The KV key of the pair: device ids and attribute names may hold characters KV keys
    refuse (`:`), so both are base64url-encoded; the prefix keeps it apart from request ids.
    """
    raw = f"{device_id}\n{attribute}".encode()
    return KEY_PREFIX + base64.urlsafe_b64encode(raw).decode().rstrip("=")


def is_holders_key(key: str) -> bool:
    """Whether a KV `grants` key is a holders record rather than a grant record."""
    return key.startswith(KEY_PREFIX)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Holder(_Frozen):
    """One grant's claim on the attribute: its value, its end and its Tailscale comment."""

    request_id: str
    value: bool | int | str
    expires_at: AwareDatetime
    comment: str


class TooManyHoldersError(Exception):
    """MAX_HOLDERS grants already hold this attribute on this device."""


class AttributeHolders(_Frozen):
    """The grants holding one attribute on one device, and what grants last wrote for them."""

    schema_version: int = 1
    device_id: str
    attribute: str
    holders: dict[str, Holder] = Field(default_factory=dict, description="By request id.")
    written: Holder | None = Field(
        default=None, description="The value and expiry grants last wrote (None: removed)."
    )

    @classmethod
    def empty(cls, device_id: str, attribute: str) -> AttributeHolders:
        """Nobody holds it yet."""
        return cls(device_id=device_id, attribute=attribute)

    def with_holder(self, holder: Holder) -> AttributeHolders:
        """`holder` added, or its claim replaced (an extension moves its end)."""
        if holder.request_id not in self.holders and len(self.holders) >= MAX_HOLDERS:
            raise TooManyHoldersError(
                f"{len(self.holders)} grants already hold {self.attribute} on {self.device_id}"
            )
        return self.model_copy(update={"holders": {**self.holders, holder.request_id: holder}})

    def without(self, request_id: str) -> AttributeHolders:
        """The claim of `request_id` dropped (unchanged if it held none)."""
        if request_id not in self.holders:
            return self
        rest = {k: h for k, h in self.holders.items() if k != request_id}
        return self.model_copy(update={"holders": rest})

    def with_written(self, written: Holder | None) -> AttributeHolders:
        """Record what is now in Tailscale."""
        return self.model_copy(update={"written": written})

    def latest(self, now: datetime) -> Holder | None:
        """The active holder that ends last (ties: the earliest request), or None."""
        active = sorted(
            (h for h in self.holders.values() if h.expires_at > now), key=lambda h: h.request_id
        )
        return max(active, key=lambda h: h.expires_at) if active else None  # first of a tie
