"""One pooled HTTP session per Slack Web API client.

Without one, slack_sdk's AsyncWebClient opens a new aiohttp session, and so a new TCP
(and TLS) connection, for every call. The session is opened from a service hook, inside
the running event loop, and closed when the service stops.
"""

from __future__ import annotations

import aiohttp
from nats.js import JetStreamContext
from pydantic import SecretStr
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from shared.metrics.slack import observed


class PooledSlackSession:
    """Gives `client` a session for the service's lifetime (unless it already has one)."""

    def __init__(self, client: AsyncWebClient) -> None:
        self._client = client
        self._owned: aiohttp.ClientSession | None = None

    async def open(self, _js: JetStreamContext | None = None) -> None:
        """Service.on_connected hook."""
        if self._client.session is None:
            self._owned = aiohttp.ClientSession()
            self._client.session = self._owned

    async def close(self) -> None:
        """Service.on_stop hook."""
        if self._owned is not None:
            self._client.session = None
            await self._owned.close()
            self._owned = None


def web_client(
    token: SecretStr,
    base_url: str,
    *,
    timeout: int,
    connection_retries: int,
    rate_limit_retries: int,
    server_error_retries: int,
) -> AsyncWebClient:
    """slack_sdk's client with its own retry handlers (429 waits out Retry-After),
    counted in `shared.metrics.slack`.

    Each service picks its budgets: intake answers people inside Slack's 3-second window,
    the notifier can wait out a rate limit.
    """
    return AsyncWebClient(
        token=token.get_secret_value(),
        base_url=base_url,
        timeout=timeout,
        retry_handlers=observed(
            [
                (
                    "connection",
                    AsyncConnectionErrorRetryHandler(max_retry_count=connection_retries),
                ),
                (
                    "rate_limited",
                    AsyncRateLimitErrorRetryHandler(max_retry_count=rate_limit_retries),
                ),
                (
                    "server_error",
                    AsyncServerErrorRetryHandler(max_retry_count=server_error_retries),
                ),
            ]
        ),
    )
