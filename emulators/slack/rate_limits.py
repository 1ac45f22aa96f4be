"""Per-method rate limits (sliding one-minute window) and forced 429s / failures."""

from __future__ import annotations

import math
import time
from collections import deque
from collections.abc import Callable, Mapping
from dataclasses import dataclass

# Calls per minute: the floor of each method's tier (1 = 1+, 2 = 20+, 3 = 50+, 4 = 100+).
TIER_1, TIER_2, TIER_3, TIER_4 = 1, 20, 50, 100

DEFAULT_RATE_LIMITS: dict[str, int | None] = {
    "auth.test": TIER_4,  # "special" tier in Slack's docs, generous in practice
    # Tier 1 on paper, but Slack lets a client reconnect a few times a minute; a strict
    # 1/min would break the SDK's reconnect after a `disconnect` message.
    "apps.connections.open": TIER_2,
    "views.open": TIER_4,
    "views.update": TIER_4,
    "views.push": TIER_4,
    # Special: about one message per second per channel, short bursts allowed. Counted
    # per channel (see `per_channel`).
    "chat.postMessage": 60,
    "chat.update": TIER_3,
    "chat.postEphemeral": TIER_4,
    "users.info": TIER_4,
    "users.lookupByEmail": TIER_3,
    "conversations.open": TIER_3,
    "usergroups.list": TIER_2,
    "usergroups.users.list": TIER_2,
}
PER_CHANNEL = frozenset({"chat.postMessage"})
WINDOW_SECONDS = 60.0


@dataclass
class _Forced:
    remaining: int
    value: str | int


class RateLimiter:
    """Decides whether a call is rate limited; also holds the forced outcomes tests ask for.

    `overrides` merges over the defaults; a value of None or 0 means unlimited, and the
    key "*" applies to every method first (so `{"*": None}` turns limits off).
    """

    def __init__(
        self,
        overrides: Mapping[str, int | None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.limits: dict[str, int | None] = dict(DEFAULT_RATE_LIMITS)
        overrides = dict(overrides or {})
        if "*" in overrides:
            everything = overrides.pop("*")
            self.limits = dict.fromkeys(self.limits, everything)
        self.limits.update(overrides)
        self._clock = clock
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._forced_429: dict[str, list[_Forced]] = {}
        self._forced_errors: dict[str, list[_Forced]] = {}

    def check(self, method: str, channel: str | None = None) -> int | None:
        """Count this call; return a Retry-After in whole seconds if it is over the limit."""
        forced = self._take(self._forced_429, method)
        if forced is not None:
            return int(forced)
        limit = self.limits.get(method)
        if not limit:
            return None
        key = (method, (channel or "") if method in PER_CHANNEL else "")
        window = self._windows.setdefault(key, deque())
        now = self._clock()
        while window and window[0] <= now - WINDOW_SECONDS:
            window.popleft()
        if len(window) >= limit:
            return max(1, math.ceil(window[0] + WINDOW_SECONDS - now))
        window.append(now)
        return None

    def forced_error(self, method: str) -> str | None:
        forced = self._take(self._forced_errors, method)
        return None if forced is None else str(forced)

    def force_rate_limit(self, method: str, count: int, retry_after: int) -> None:
        self._forced_429.setdefault(method, []).append(_Forced(count, int(retry_after)))

    def force_error(self, method: str, error: str, count: int) -> None:
        self._forced_errors.setdefault(method, []).append(_Forced(count, error))

    @staticmethod
    def _take(queue: dict[str, list[_Forced]], method: str) -> str | int | None:
        pending = queue.get(method)
        if not pending:
            return None
        head = pending[0]
        head.remaining -= 1
        if head.remaining <= 0:
            pending.pop(0)
        return head.value
