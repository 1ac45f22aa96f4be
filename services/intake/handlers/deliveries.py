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
from collections.abc import Callable

from services.intake.ports import AckBody
from shared.persistence.ledger import RecentKeys

DEFAULT_TTL_SECONDS = 600.0
DEFAULT_MAX_SIZE = 10_000  # at the limit the oldest delivery is forgotten first


class RecentDeliveries:
    """Delivery key -> the ack the first delivery gave (or will give)."""

    def __init__(
        self,
        *,
        ttl: float = DEFAULT_TTL_SECONDS,
        max_size: int = DEFAULT_MAX_SIZE,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seen: RecentKeys[asyncio.Future[AckBody]] = RecentKeys(
            ttl=ttl, max_size=max_size, clock=clock
        )

    def claim(self, key: str) -> asyncio.Future[AckBody] | None:
        """None for a first delivery (settle it later); else the earlier delivery's ack."""
        earlier = self._seen.get(key)
        if earlier is not None:
            return earlier
        self._seen.add(key, asyncio.get_running_loop().create_future())
        return None

    def settle(self, key: str, body: AckBody) -> None:
        """The first delivery acked with `body`; repeats get the same."""
        pending = self._seen.get(key)
        if pending is not None and not pending.done():
            pending.set_result(body)

    def forget(self, key: str) -> None:
        """The first delivery failed before acking: let a retry do the work again."""
        pending = self._seen.pop(key)
        if pending is not None and not pending.done():
            pending.set_result(None)
