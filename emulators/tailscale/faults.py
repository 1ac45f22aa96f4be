"""Injected failures: the next N matching API calls answer a fault instead of being served."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

TOKEN_PATH = "/oauth/token"  # noqa: S105 - a URL path, not a secret
FaultKind = Literal["400", "429", "500", "504", "hang", "401", "hang_after"]


class Fault(BaseModel):
    """One failure to inject.

    kind: "400" (the API refuses the call as invalid), "429" (with
    `Retry-After: retry_after` when set), "500", "504",
    "hang" (sleep `hang_seconds`, then serve the call normally),
    "401" (revoke every issued token; the call answers 401), or
    "hang_after" (serve the call, then sleep `hang_seconds` before answering: the
    change is made but the caller learns it late, or never if it dies meanwhile).
    count: how many matching calls it hits; None means until cleared.
    path / method: optional regex (searched in the request path) and HTTP method.
    Faults never touch `/_emulator/` calls, and touch `/oauth/token` only when `path`
    matches it.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: FaultKind
    count: int | None = Field(default=1, ge=1)
    retry_after: int | None = Field(default=None, ge=0)
    hang_seconds: float = Field(default=5.0, ge=0)
    path: str | None = None
    method: str | None = None

    @field_validator("kind", mode="before")
    @classmethod
    def _kind_as_text(cls, value: object) -> object:
        # JSON callers naturally write 429 rather than "429".
        return str(value) if isinstance(value, int) and not isinstance(value, bool) else value

    @field_validator("path")
    @classmethod
    def _path_compiles(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                re.compile(value)
            except re.error as exc:  # pydantic reports ValueError, not re.error
                raise ValueError(f"path is not a valid regex: {exc}") from exc
        return value

    def matches(self, method: str, path: str) -> bool:
        """Whether a call with this method and path is subject to the fault."""
        if self.method is not None and self.method.upper() != method.upper():
            return False
        if self.path is None:
            # Unscoped faults model API trouble, not token trouble: the token endpoint is
            # hit only by faults whose path regex names it.
            return not path.endswith(TOKEN_PATH)
        return re.search(self.path, path) is not None


@dataclass
class _Armed:
    fault: Fault
    remaining: int | None


class FaultQueue:
    """Faults in injection order; the first matching one with hits left wins."""

    def __init__(self) -> None:
        self._armed: list[_Armed] = []

    def add(self, fault: Fault) -> None:
        self._armed.append(_Armed(fault, fault.count))

    def clear(self) -> None:
        self._armed.clear()

    def take(self, method: str, path: str) -> Fault | None:
        """Consume one hit of the first fault matching this call, if any."""
        for armed in self._armed:
            if armed.fault.matches(method, path):
                if armed.remaining is not None:
                    armed.remaining -= 1
                    if armed.remaining == 0:
                        self._armed.remove(armed)
                return armed.fault
        return None

    def pending(self) -> list[tuple[Fault, int | None]]:
        """Armed faults with their remaining hits (None = unlimited)."""
        return [(a.fault, a.remaining) for a in self._armed]
