"""Slack Web API calls by method and HTTP status (429 included), and slack_sdk's retries.

slack_sdk consults its retry handlers in order after every attempt, whatever the answer,
so an observer placed first sees each attempt; wrapping the real handlers counts the
retries they decide on, under the reason each one stands for.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from prometheus_client import Counter
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

SLACK_CALLS = Counter(
    "accessbot_slack_api_calls_total",
    "Slack Web API attempts (each retry counts), by method and HTTP status "
    "(`error` when no answer came).",
    ["method", "status"],
)
SLACK_RETRIES = Counter(
    "accessbot_slack_api_retries_total",
    "Slack Web API attempts repeated by slack_sdk, by method and reason.",
    ["method", "reason"],
)

# Slack method names (`chat.postMessage`); anything else is counted as `other`.
_METHOD = re.compile(r"^[a-z]+(\.[a-zA-Z]+){1,3}$")


def method_of(url: str) -> str:
    """The Web API method a URL calls, from a bounded vocabulary."""
    name = url.split("?", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return name if _METHOD.match(name) and len(name) <= 64 else "other"


class _AttemptObserver(AsyncRetryHandler):
    """Never retries; counts the attempt it is shown."""

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        status = str(response.status_code) if response is not None else "error"
        SLACK_CALLS.labels(method_of(request.url), status).inc()
        return False


class _CountedRetries(AsyncRetryHandler):
    """Delegates to `inner`, counting each retry it decides on."""

    def __init__(self, inner: AsyncRetryHandler, reason: str) -> None:
        super().__init__(inner.max_retry_count, inner.interval_calculator)
        self._inner = inner
        self._reason = reason

    async def can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return await self._inner.can_retry_async(
            state=state, request=request, response=response, error=error
        )

    async def prepare_for_next_attempt_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> None:
        SLACK_RETRIES.labels(method_of(request.url), self._reason).inc()
        await self._inner.prepare_for_next_attempt_async(
            state=state, request=request, response=response, error=error
        )


def observed(handlers: Sequence[tuple[str, AsyncRetryHandler]]) -> list[AsyncRetryHandler]:
    """`(reason, handler)` pairs as slack_sdk retry handlers that also feed the metrics."""
    return [_AttemptObserver(), *(_CountedRetries(h, reason) for reason, h in handlers)]
