"""One rule for email addresses: compared case-insensitively, so normalised once at the edge.

Slack, Tailscale and profiles.yaml may spell an address in any case; every model that holds
one (events, profiles, records) declares it as `Email`, which strips and lower-cases it while
validating, so code past the edge compares with `==` and never lower-cases by hand.

email_validator's syntax check (IDNA, per-character Unicode rules) costs about 0.1 ms per
address, and every event body, stored record and profile re-validates the same few
addresses. The check is a pure function of the string (pydantic calls it with
deliverability checks off), so its answer is cached, bounded; an invalid address is never
cached and fails exactly as `EmailStr` does. Same core and JSON schema as `EmailStr`
(`format: email`), so the contracts and the AsyncAPI document do not change.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING, Annotated

from pydantic import BeforeValidator, EmailStr
from pydantic.networks import validate_email

CACHED_ADDRESSES = 4096  # far more people than one deployment's profiles name


@lru_cache(maxsize=CACHED_ADDRESSES)
def checked_email(value: str) -> str:
    """The address as `EmailStr` validates it (raises its `PydanticCustomError` when not)."""
    return validate_email(value)[1]


if TYPE_CHECKING:
    CheckedEmailStr = EmailStr
else:

    class CheckedEmailStr(EmailStr):
        """`EmailStr` validated through `checked_email`."""

        @classmethod
        def _validate(cls, input_value: str, /) -> str:
            return checked_email(input_value)


def normalise_email(text: str) -> str:
    """The form every comparison uses; for raw text that no model has validated yet."""
    return text.strip().lower()


def _normalise_if_text(value: object) -> object:
    return normalise_email(value) if isinstance(value, str) else value


Email = Annotated[CheckedEmailStr, BeforeValidator(_normalise_if_text)]
"""A valid email address, stripped and lower-cased."""
