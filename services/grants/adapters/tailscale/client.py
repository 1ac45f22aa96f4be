"""The Tailscale API over httpx: OAuth client credentials, bounded retries, typed errors.

Every call has a total budget (and optionally a tighter caller deadline, on the
monotonic clock); 429, 5xx, timeouts and connection errors are retried inside it
with jittered exponential backoff that honours `Retry-After`. A 401 drops the
token and fetches a new one. Whatever finally fails raises a `TailscaleError`
subclass naming the call, the status and Tailscale's message.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

import httpx
import structlog
from pydantic import SecretStr

from services.grants.adapters.tailscale import metrics
from services.grants.adapters.tailscale.retry import (
    RetryPolicy,
    is_retryable_status,
    parse_retry_after,
)
from services.grants.adapters.tailscale.tokens import TokenCache
from services.grants.domain.posture_attributes import (
    AttributeValue,
    DeviceAttributes,
    format_expiry,
)
from services.grants.domain.tailscale_errors import (
    TailscaleAuthError,
    TailscaleRejectedError,
    TailscaleUnavailableError,
)

TOKEN_PATH = "/oauth/token"  # noqa: S105 - an endpoint path, not a secret
MAX_TOKEN_REFUSALS = 3  # 401s with fresh tokens before giving up on one call

log = structlog.get_logger("accessbot.grants.tailscale")


def _error_message(response: httpx.Response) -> str:
    """Tailscale's `{"message": ...}`, else the start of the body, else the reason phrase."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict) and isinstance(body.get("message"), str) and body["message"]:
        return str(body["message"])
    text = response.text.strip()
    return text[:200] if text else response.reason_phrase or "no message"


def _segment(value: str) -> str:
    """One URL path segment; ':' stays readable in attribute keys."""
    return quote(value, safe=":")


class TailscaleClient:
    """Async client of the endpoints grants uses; one per process, closed on stop."""

    def __init__(
        self,
        *,
        api_url: str,
        tailnet: str,
        client_id: str,
        client_secret: SecretStr,
        policy: RetryPolicy,
        request_timeout: float,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        rand: Callable[[], float] = random.random,
    ) -> None:
        self._tailnet = tailnet
        self._client_id = client_id
        self._client_secret = client_secret
        self._policy = policy
        self._timeout = request_timeout
        self._clock = clock
        self._sleep = sleep
        self._rand = rand
        self._tokens = TokenCache(clock=clock)
        self._token_lock = asyncio.Lock()
        self._http = httpx.AsyncClient(
            base_url=api_url.rstrip("/") + "/api/v2",
            timeout=request_timeout,
            transport=transport,
            headers={"User-Agent": "accessbot-grants"},
        )

    async def aclose(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    # --- endpoints ---------------------------------------------------------------

    async def ensure_token(self) -> None:
        """Obtain a token now if none is cached (readiness)."""
        await self._token(self._clock() + self._policy.budget_seconds)

    async def list_devices(self) -> list[dict[str, Any]]:
        """Every device of the tailnet (the API does not paginate)."""
        response = await self._call("GET", f"/tailnet/{_segment(self._tailnet)}/devices")
        devices = response.json().get("devices")
        if not isinstance(devices, list):
            raise TailscaleRejectedError(
                "GET", "/tailnet/-/devices", response.status_code, "no 'devices' list in answer"
            )
        return [d for d in devices if isinstance(d, dict)]

    async def get_attributes(
        self, device_id: str, *, deadline: float | None = None
    ) -> DeviceAttributes:
        """The device's posture attributes and their expiries."""
        path = f"/device/{_segment(device_id)}/attributes"
        response = await self._call("GET", path, deadline=deadline)
        try:
            return DeviceAttributes.from_json(response.json())
        except ValueError as exc:
            raise TailscaleRejectedError("GET", path, response.status_code, str(exc)) from None

    async def set_attribute(
        self,
        device_id: str,
        key: str,
        value: AttributeValue,
        *,
        expiry: datetime | None,
        comment: str | None,
        deadline: float | None = None,
    ) -> None:
        """Set (or overwrite) one custom attribute."""
        body: dict[str, Any] = {"value": value}
        if expiry is not None:
            body["expiry"] = format_expiry(expiry)
        if comment:
            body["comment"] = comment
        path = f"/device/{_segment(device_id)}/attributes/{_segment(key)}"
        await self._call("POST", path, json=body, deadline=deadline)

    async def delete_attribute(
        self, device_id: str, key: str, *, deadline: float | None = None
    ) -> bool:
        """Delete one custom attribute; False when it was already gone (404)."""
        path = f"/device/{_segment(device_id)}/attributes/{_segment(key)}"
        response = await self._call("DELETE", path, deadline=deadline, accept=(404,))
        return response.status_code != 404

    # --- plumbing ----------------------------------------------------------------

    async def _token(self, end: float) -> SecretStr:
        token = self._tokens.current()
        if token is not None:
            return token
        async with self._token_lock:  # one refresh for all concurrent callers
            token = self._tokens.current()
            if token is None:
                token = await self._fetch_token(end)
        return token

    async def _fetch_token(self, end: float) -> SecretStr:
        form = {
            "client_id": self._client_id,
            "client_secret": self._client_secret.get_secret_value(),
            "grant_type": "client_credentials",
        }
        response = await self._attempts("POST", TOKEN_PATH, end, data=form, token=False)
        body = response.json()
        value = body.get("access_token") if isinstance(body, dict) else None
        if not isinstance(value, str) or not value:
            raise TailscaleAuthError("POST", TOKEN_PATH, response.status_code, "no access_token")
        expires_in = body.get("expires_in")
        token = SecretStr(value)
        lifetime = float(expires_in) if isinstance(expires_in, int | float) else None
        self._tokens.store(token, lifetime)
        log.info("tailscale.token_obtained", expires_in=expires_in)
        return token

    async def _call(
        self,
        method: str,
        path: str,
        *,
        json: Mapping[str, Any] | None = None,
        deadline: float | None = None,
        accept: tuple[int, ...] = (),
    ) -> httpx.Response:
        end = self._clock() + self._policy.budget_seconds
        if deadline is not None:
            end = min(end, deadline)
        return await self._attempts(method, path, end, json=json, accept=accept, token=True)

    async def _attempts(
        self,
        method: str,
        path: str,
        end: float,
        *,
        token: bool,
        json: Mapping[str, Any] | None = None,
        data: Mapping[str, str] | None = None,
        accept: tuple[int, ...] = (),
    ) -> httpx.Response:
        """Send until success, a permanent error, or the time until `end` runs out."""
        attempts = refusals = 0
        last = _Retry(None, "the deadline had passed before the first attempt", None)
        while (remaining := end - self._clock()) > 0:
            headers: dict[str, str] = {}
            bearer: SecretStr | None = None
            if token:
                bearer = await self._token(end)
                headers["Authorization"] = f"Bearer {bearer.get_secret_value()}"
                remaining = end - self._clock()
            attempts += 1
            try:
                response = await self._http.request(
                    method,
                    path,
                    json=json,
                    data=data,
                    headers=headers,
                    timeout=max(0.01, min(self._timeout, remaining)),
                )
            except httpx.TimeoutException:
                metrics.attempted(method, path, "timeout")
                last = _Retry(None, "no answer in time", None)
            except httpx.TransportError as exc:
                metrics.attempted(method, path, "error")
                last = _Retry(None, f"connection failed ({type(exc).__name__})", None)
            else:
                metrics.attempted(method, path, response.status_code)
                if response.is_success or response.status_code in accept:
                    return response
                verdict = _judge(method, path, response, token=token)
                if verdict is None:  # 401 on an API call: the token was revoked or expired
                    refusals += 1
                    if refusals > MAX_TOKEN_REFUSALS or bearer is None:
                        raise TailscaleAuthError(method, path, 401, _error_message(response))
                    self._tokens.invalidate(bearer)
                    log.info("tailscale.token_refused", method=method, path=path)
                    continue
                last = verdict
            remaining = end - self._clock()
            delay = self._policy.next_delay(attempts - 1, remaining, last.retry_after, self._rand())
            if delay is None:
                break
            metrics.retrying(method, path, last.status)
            log.warning(
                "tailscale.retrying",
                method=method,
                path=path,
                status=last.status,
                reason=last.message,
                attempt=attempts,
                delay_s=round(delay, 3),
            )
            await self._sleep(delay)
        message = last.message
        if last.retry_after is not None and last.retry_after >= max(remaining, 0):
            message += f" (Retry-After {last.retry_after:g}s is past the time left)"
        raise TailscaleUnavailableError(method, path, last.status, message, attempts=attempts)


@dataclass(frozen=True, slots=True)
class _Retry:
    """A failed attempt worth repeating."""

    status: int | None
    message: str
    retry_after: float | None


def _judge(method: str, path: str, response: httpx.Response, *, token: bool) -> _Retry | None:
    """Classify an error answer: retry it, renew the token (None), or raise for good."""
    status = response.status_code
    message = _error_message(response)
    if not token and status in (400, 401, 403):
        raise TailscaleAuthError(method, path, status, message)
    if status == 401:
        return None
    if not is_retryable_status(status):
        raise TailscaleRejectedError(method, path, status, message)
    return _Retry(status, message, parse_retry_after(response.headers.get("Retry-After")))
