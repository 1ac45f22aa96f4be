"""One rule for email addresses: compared case-insensitively, so normalised once at the edge.

Slack, Tailscale and profiles.yaml may spell an address in any case; every model that holds
one (events, profiles, records) declares it as `Email`, which strips and lower-cases it while
validating, so code past the edge compares with `==` and never lower-cases by hand.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, EmailStr


def normalise_email(text: str) -> str:
    """The form every comparison uses; for raw text that no model has validated yet."""
    return text.strip().lower()


def _normalise_if_text(value: object) -> object:
    return normalise_email(value) if isinstance(value, str) else value


Email = Annotated[EmailStr, BeforeValidator(_normalise_if_text)]
"""A valid email address, stripped and lower-cased."""
