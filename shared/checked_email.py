"""`EmailStr` whose check is remembered per address.

email_validator's syntax check (IDNA, per-character Unicode rules) costs about 0.1 ms
per address, and every event body, stored record and profile re-validates the same
few addresses. The check is a pure function of the string (pydantic calls it with
deliverability checks off), so its answer is cached, bounded; an invalid address is
never cached and fails exactly as `EmailStr` does. Same core and JSON schema as
`EmailStr` (`format: email`), so contracts and the AsyncAPI document do not change.
"""

from __future__ import annotations

from functools import lru_cache
from typing import TYPE_CHECKING

from pydantic import EmailStr
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
