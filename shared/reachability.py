"""Where a process connects to NATS, and why it is not connected (yet).

nats-py retries forever (`max_reconnect_attempts=-1`), before the first connection and
after a lost one, calling `error_cb` on each failed attempt. `NatsReachability` is that
callback: one line per attempt, at most every `LOG_EVERY_SECONDS`
(`cannot reach NATS at URL as USER: reason; retrying`), the reason kept for `/healthz`,
and a refused password ends the first connection with `NatsRefusedError` (retrying
cannot fix it; the CLI exits 2 with one line).
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar
from urllib.parse import urlsplit, urlunsplit

import structlog
from nats import errors as nats_errors

from shared.cancellation import cancel_until_done

T = TypeVar("T")
LOG_EVERY_SECONDS = 3.0
CONNECT_TIMEOUT_SECONDS = 2  # nats-py's TCP + handshake limit per attempt

log = structlog.get_logger("accessbot.nats")
CONNECTION_LOST = (OSError, nats_errors.StaleConnectionError, nats_errors.ConnectionClosedError)


class NatsRefusedError(Exception):
    """The server refused our credentials: no retry helps."""


class StoppedError(Exception):
    """A signal arrived before the connection was made."""


def redact_url(url: str) -> str:
    """`nats://user:pass@host` -> `nats://user@host` (passwords never reach a log)."""
    parts = []
    for one in url.split(","):
        split = urlsplit(one.strip())
        if split.password is not None:
            host = split.hostname or ""
            port = f":{split.port}" if split.port else ""
            netloc = f"{split.username}@{host}{port}" if split.username else f"{host}{port}"
            split = split._replace(netloc=netloc)
        parts.append(urlunsplit(split))
    return ",".join(parts)


def describe_failure(exc: BaseException) -> str:
    """A short reason for one failed attempt (no traceback: the cause is in the words)."""
    if isinstance(exc, nats_errors.AuthorizationError):
        return "the password was refused (authorization violation)"
    if isinstance(exc, ConnectionRefusedError):
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return "unknown host"
    if isinstance(exc, TimeoutError):
        return f"no answer within {CONNECT_TIMEOUT_SECONDS}s"
    if isinstance(exc, nats_errors.NoServersError):
        return "no server answered"
    text = str(exc).removeprefix("nats: ").strip().strip("'") or type(exc).__name__
    return text[:200]


def is_refusal(exc: BaseException) -> bool:
    """The server answered and refused the credentials."""
    if isinstance(exc, nats_errors.AuthorizationError):
        return True
    return "authorization violation" in str(exc).lower()


class NatsReachability:
    """nats-py's connection callbacks for one client, and what `/healthz` says of it."""

    def __init__(
        self,
        url: str,
        user: str | None,
        *,
        clock: Callable[[], float] = time.monotonic,
        log_every: float = LOG_EVERY_SECONDS,
    ) -> None:
        self.url = redact_url(url)
        self.user = user or "(no user)"
        self.reason: str | None = f"connecting to NATS at {self.url} as {self.user}"
        self._connected_once = False
        self._clock = clock
        self._log_every = log_every
        self._last_line: float | None = None
        self._closing = False

    @property
    def target(self) -> str:
        """`URL as USER`."""
        return f"{self.url} as {self.user}"

    def announce(self) -> None:
        """The first line: what this process connects to."""
        log.info("connecting to NATS at %s", self.target, url=self.url, user=self.user)

    def callbacks(self) -> dict[str, Callable[..., Awaitable[None]]]:
        """Keyword arguments for nats-py's `connect` (and FastStream's broker)."""
        return {
            "error_cb": self.on_error,
            "disconnected_cb": self.on_disconnected,
            "reconnected_cb": self.on_connected,
            "closed_cb": self.on_closed,
        }

    def closing(self) -> None:
        """We close the connection ourselves: what follows is no news."""
        self._closing = True

    async def on_error(self, exc: Exception) -> None:
        """Every failed attempt (and asynchronous errors once connected)."""
        if self._closing:
            return
        reason = describe_failure(exc)
        if is_refusal(exc) and not self._connected_once:
            self.reason = f"NATS at {self.url} refused the password of {self.user}"
            raise NatsRefusedError(self.reason) from None
        if self._connected_once and self.reason is None:
            if not isinstance(exc, CONNECTION_LOST):  # a loss is told by on_disconnected
                # Connected: a server-reported problem (e.g. a permission).
                log.warning("nats.error", reason=reason)
            return
        self.reason = f"cannot reach NATS at {self.target}: {reason}"
        now = self._clock()
        if self._last_line is None or now - self._last_line >= self._log_every:
            self._last_line = now
            log.warning("%s; retrying", self.reason, url=self.url, user=self.user, reason=reason)

    async def on_connected(self) -> None:
        """Connected (first time or again)."""
        if self.reason is not None and self._connected_once:
            log.info("reconnected to NATS at %s", self.target)
        self._connected_once = True
        self.reason = None
        self._last_line = None

    async def on_disconnected(self) -> None:
        """Lost the connection (nats-py retries), or closing it: told apart next turn."""
        if self._connected_once and self.reason is None and not self._closing:
            self.reason = f"lost the connection to NATS at {self.target}; reconnecting"
            # A close calls closed_cb right after this, without yielding in between.
            asyncio.get_running_loop().call_soon(self._tell_loss)

    async def on_closed(self) -> None:
        """The client is closed for good (our `close()`): nothing more to tell."""
        self._closing = True

    def _tell_loss(self) -> None:
        if not self._closing and self.reason is not None:
            log.warning("%s", self.reason, url=self.url, user=self.user)


async def until_stopped(
    work: Awaitable[T], stop: asyncio.Event, *, grace: float = 1.0, recancel: bool = False
) -> T:
    """Await `work` unless `stop` is set first; then cancel it, give its cleanup up to
    `grace` seconds, and raise `StoppedError`.

    `recancel`: cancel it again until it ends (shared.cancellation: on Python 3.11 one
    cancellation can be lost), for work whose cleanup runs through `to_the_end`."""
    task = asyncio.ensure_future(work)
    stopped = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({task, stopped}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopped.cancel()
    if task.done():
        return task.result()
    if recancel:
        await cancel_until_done(task, within=grace)
    else:
        task.cancel()
        await asyncio.wait({task}, timeout=grace)
    raise StoppedError


def connection_extras() -> dict[str, Any]:
    """How long one attempt may take (the reason then says so)."""
    return {"connect_timeout": CONNECT_TIMEOUT_SECONDS}
