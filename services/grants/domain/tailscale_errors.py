"""Typed failures of Tailscale API calls; each names the call, the status and Tailscale's words.

Messages never hold a token or the client secret: they are built from the method,
the path and Tailscale's `{"message": ...}` only.
"""

from __future__ import annotations

MAX_MESSAGE_CHARS = 300


class TailscaleError(Exception):
    """A Tailscale API call failed; `status_code` is the last HTTP status, if any."""

    error_code = "tailscale_error"
    retryable = False  # whether the same call may succeed later, unchanged

    def __init__(self, method: str, path: str, status_code: int | None, message: str) -> None:
        self.method = method
        self.path = path
        self.status_code = status_code
        self.message = message[:MAX_MESSAGE_CHARS]
        status = f"answered {status_code}" if status_code is not None else "failed"
        super().__init__(f"Tailscale {method} {path} {status}: {self.message}")


class TailscaleRejectedError(TailscaleError):
    """A 4xx that retrying will not fix (invalid attribute, unknown device, no permission)."""

    error_code = "tailscale_rejected"


class TailscaleAuthError(TailscaleRejectedError):
    """The OAuth client credentials were refused, or tokens keep being refused."""

    error_code = "tailscale_auth"


class TailscaleUnavailableError(TailscaleError):
    """429, 5xx or timeouts until the retry budget ran out; `attempts` were made."""

    error_code = "retries_exhausted"
    retryable = True

    def __init__(
        self, method: str, path: str, status_code: int | None, message: str, *, attempts: int
    ) -> None:
        self.attempts = attempts
        super().__init__(
            method, path, status_code, f"gave up after {attempts} attempts; last: {message}"
        )
