"""The OAuth access token cache: pure logic, with the clock handed in.

A token is used until shortly before it expires (a tenth of its life, at most
`refresh_margin` seconds) and dropped after a 401. Dropping names the token that
failed, so a 401 that raced with a refresh does not throw away the new token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from pydantic import SecretStr

DEFAULT_LIFETIME_SECONDS = 3600.0


@dataclass(frozen=True, slots=True)
class CachedToken:
    """A bearer token and when (on the monotonic clock) to stop using it."""

    value: SecretStr
    refresh_at: float


class TokenCache:
    """Holds at most one token; says when a new one is needed."""

    def __init__(
        self, *, refresh_margin: float = 60.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._margin = refresh_margin
        self._clock = clock
        self._token: CachedToken | None = None

    def current(self) -> SecretStr | None:
        """The token to use now, or None when a new one must be fetched."""
        if self._token is None or self._clock() >= self._token.refresh_at:
            return None
        return self._token.value

    def store(self, value: SecretStr, expires_in: float | None) -> None:
        """Keep a fresh token; `expires_in` as the token endpoint said (seconds)."""
        lifetime = expires_in if expires_in and expires_in > 0 else DEFAULT_LIFETIME_SECONDS
        margin = min(self._margin, lifetime / 10)
        self._token = CachedToken(value, self._clock() + lifetime - margin)

    def invalidate(self, value: SecretStr) -> None:
        """Forget `value` after Tailscale refused it (a newer token is kept)."""
        if self._token is not None and (
            self._token.value.get_secret_value() == value.get_secret_value()
        ):
            self._token = None
