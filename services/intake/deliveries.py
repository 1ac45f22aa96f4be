"""Recognising a byte-identical delivery seen moments ago (a repeated HTTP request).

Slack itself does not re-send interactions; this is a cheap guard, not a mechanism
anything relies on.

The repeat gets the first delivery's ack and nothing else happens. This only
covers one replica; across replicas the deterministic event ids let JetStream's
duplicate window drop the second publish.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Callable

from services.intake.ports import AckBody

DEFAULT_TTL_SECONDS = 600.0


class RecentDeliveries:
    """Delivery key -> the ack the first delivery gave (or will give)."""

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_size: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._ttl = ttl
        self._max_size = max_size
        self._clock = clock
        self._seen: OrderedDict[str, tuple[float, asyncio.Future[AckBody]]] = OrderedDict()

    def claim(self, key: str) -> asyncio.Future[AckBody] | None:
        """None for a first delivery (settle it later); else the earlier delivery's ack."""
        now = self._clock()
        while self._seen:
            oldest_key, (expires, _) = next(iter(self._seen.items()))
            if expires > now and len(self._seen) < self._max_size:
                break
            self._seen.pop(oldest_key)
        earlier = self._seen.get(key)
        if earlier is not None:
            return earlier[1]
        self._seen[key] = (now + self._ttl, asyncio.get_running_loop().create_future())
        return None

    def settle(self, key: str, body: AckBody) -> None:
        """The first delivery acked with `body`; repeats get the same."""
        entry = self._seen.get(key)
        if entry is not None and not entry[1].done():
            entry[1].set_result(body)

    def forget(self, key: str) -> None:
        """The first delivery failed before acking: let a retry do the work again."""
        entry = self._seen.pop(key, None)
        if entry is not None and not entry[1].done():
            entry[1].set_result(None)
