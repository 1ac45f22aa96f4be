"""One pooled HTTP session per Slack Web API client.

Without one, slack_sdk's AsyncWebClient opens a new aiohttp session, and so a new TCP
(and TLS) connection, for every call. The session is opened from a service hook, inside
the running event loop, and closed when the service stops.
"""

from __future__ import annotations

import aiohttp
from nats.js import JetStreamContext
from slack_sdk.web.async_client import AsyncWebClient


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
