"""The record of every API call the emulator answered, with secrets redacted."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any

from emulators.tailscale.timefmt import format_rfc3339

REDACTED = "[REDACTED]"
_SECRET_FIELDS = frozenset({"client_secret", "access_token", "refresh_token", "password"})
# Past this size the control API leaves bodies out (a 50,000-device list is ~35 MB).
_CONTROL_BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class RecordedCall:
    """One API call as the emulator saw and answered it."""

    method: str
    path: str
    query: dict[str, str]
    status: int
    request_json: Any
    request_form: dict[str, str] | None
    response_body: bytes = field(repr=False)
    response_headers: dict[str, str]
    fault: str | None  # kind of the injected fault that hit this call, if any
    monotonic: float  # time.monotonic() when the call arrived
    wallclock: datetime  # the emulator's clock when the call arrived
    duration: float  # seconds spent answering, including any injected hang

    @cached_property
    def response_json(self) -> Any:
        """The response body parsed as JSON (None when it is not JSON)."""
        try:
            return json.loads(self.response_body)
        except ValueError:
            return None

    def to_json(self) -> dict[str, Any]:
        """A JSON-friendly view for the control API."""
        small = len(self.response_body) <= _CONTROL_BODY_LIMIT
        return {
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "status": self.status,
            "request_json": self.request_json,
            "request_form": self.request_form,
            "response_json": self.response_json if small else None,
            "response_truncated": not small,
            "response_headers": self.response_headers,
            "fault": self.fault,
            "monotonic": self.monotonic,
            "wallclock": format_rfc3339(self.wallclock),
            "duration": self.duration,
        }


class CallLog:
    """Append-only list of recorded calls."""

    def __init__(self) -> None:
        self._calls: list[RecordedCall] = []

    def append(self, call: RecordedCall) -> None:
        self._calls.append(call)

    def clear(self) -> None:
        self._calls.clear()

    def all(self) -> list[RecordedCall]:
        return list(self._calls)

    def matching(self, method: str | None, path_regex: str | None) -> list[RecordedCall]:
        """Calls with this method (any when None or "*") whose path matches the regex."""
        pattern = re.compile(path_regex) if path_regex else None
        return [
            c
            for c in self._calls
            if (method in (None, "*") or c.method.upper() == str(method).upper())
            and (pattern is None or pattern.search(c.path))
        ]


def redact(value: Any) -> Any:
    """Copy of a JSON value with secret-bearing fields replaced."""
    if isinstance(value, dict):
        return {k: REDACTED if k in _SECRET_FIELDS else redact(v) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v) for v in value]
    return value


def redact_body(body: bytes) -> bytes:
    """Redact secrets in a JSON body (e.g. the token response); other bodies pass through."""
    if not body.startswith(b"{") or not any(k.encode() in body for k in _SECRET_FIELDS):
        return body
    try:
        return json.dumps(redact(json.loads(body))).encode()
    except ValueError:
        return body
