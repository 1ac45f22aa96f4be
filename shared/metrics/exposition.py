"""The `/metrics` answer: gauges refreshed from their source, then the text format."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence

import structlog
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, Counter, generate_latest

Refresh = Callable[[], Awaitable[None]]
log = structlog.get_logger("accessbot.metrics")

# A refresh reads a KV bucket; scrapes closer together than this reuse the last values.
MIN_REFRESH_INTERVAL_SECONDS = 10.0
REFRESH_TIMEOUT_SECONDS = 5.0

REFRESH_FAILURES = Counter(
    "accessbot_metrics_refresh_failures_total",
    "Gauge refreshes that failed or timed out (the gauges keep their last values).",
)


class MetricsExposition:
    """Runs the service's gauge refreshes (at most every few seconds) and renders."""

    def __init__(
        self,
        refreshes: Sequence[Refresh] = (),
        *,
        min_interval: float = MIN_REFRESH_INTERVAL_SECONDS,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._refreshes = list(refreshes)
        self._min_interval = min_interval
        self._clock = clock
        self._last: float | None = None
        self._lock = asyncio.Lock()
        self.content_type = CONTENT_TYPE_LATEST

    async def render(self) -> bytes:
        """The registry in Prometheus text format, gauges refreshed first when due."""
        async with self._lock:  # concurrent scrapes share one refresh
            now = self._clock()
            if self._last is None or now - self._last >= self._min_interval:
                self._last = now
                for refresh in self._refreshes:
                    await self._run(refresh)
        return generate_latest(REGISTRY)

    async def _run(self, refresh: Refresh) -> None:
        try:
            await asyncio.wait_for(refresh(), REFRESH_TIMEOUT_SECONDS)
        except Exception as exc:  # noqa: BLE001 - a scrape answers with the last values
            REFRESH_FAILURES.inc()
            log.warning("metrics.refresh_failed", error=f"{type(exc).__name__}: {exc}")
