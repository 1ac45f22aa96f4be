"""Exceptions: API errors inside the server, and what the driver raises to a test."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from emulators.slack.inspection import AckRecord, Violation


class ApiError(Exception):
    """A Web API error answered as HTTP 200 `{"ok": false, "error": ...}`."""

    def __init__(self, error: str, messages: list[str] | None = None, **extra: Any) -> None:
        super().__init__(error)
        self.error = error
        self.messages = messages or []
        self.extra = extra

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"ok": False, "error": self.error, **self.extra}
        if self.messages:
            body["response_metadata"] = {"messages": self.messages}
        return body


class DriverError(Exception):
    """The simulated person cannot do that (nothing open, no such element, invalid choice)."""


class DeliveryError(Exception):
    """The app never acknowledged (or refused) an interaction after all attempts."""

    def __init__(self, message: str, record: AckRecord) -> None:
        super().__init__(message)
        self.record = record

    @property
    def status(self) -> int | None:
        return self.record.http_status


class AppResponseError(Exception):
    """The app acknowledged with something Slack would reject (also kept in emu.violations)."""

    def __init__(self, violations: list[Violation]) -> None:
        super().__init__("; ".join(f"{v.kind}: {v.detail}" for v in violations))
        self.violations = violations
