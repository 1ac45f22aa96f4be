"""What rendering needs besides the request view: configuration, never I/O."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class NotifyContext:
    """Where device links point, the profile's audit channels and its description."""

    admin_url: str
    channels: tuple[str, ...] = ()
    profile_description: str | None = None
