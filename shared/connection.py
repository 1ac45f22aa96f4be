"""Connecting to NATS as one Accessbot user (per-user inbox prefix, credentials).

Every client retries forever and reports through `shared.reachability`: a line per
failed attempt (at most every few seconds), the reason for `/healthz`, and a refused
password as `NatsRefusedError` instead of endless tracebacks.
"""

from __future__ import annotations

import weakref
from collections.abc import Awaitable, Callable
from typing import Any

import nats
from faststream.nats import NatsBroker
from faststream.security import SASLPlaintext
from nats.aio.client import Client

from shared.logging import library_logger
from shared.permissions import inbox_prefix
from shared.reachability import NatsReachability, connection_extras
from shared.settings import ServiceSettings

# nats-py waits this long between two attempts on one server (its default is 2 s): once
# nats-server is back, a service is connected again within about this time.
RECONNECT_WAIT_SECONDS = 0.5

_BROKER_REACHABILITY: weakref.WeakKeyDictionary[NatsBroker, NatsReachability] = (
    weakref.WeakKeyDictionary()
)
# The inbox prefix each broker `make_broker` made connects with: FastStream keeps its
# connection options only privately, and its pull subscribers need the prefix too.
_BROKER_INBOX_PREFIX: weakref.WeakKeyDictionary[NatsBroker, bytes] = weakref.WeakKeyDictionary()
DEFAULT_INBOX_PREFIX = b"_INBOX."
Callback = Callable[..., Awaitable[None]]


def connect_options(settings: ServiceSettings, *, name: str) -> dict[str, Any]:
    """Keyword arguments for nats-py's `connect` (also accepted by FastStream's broker)."""
    options: dict[str, Any] = {
        "servers": [s.strip() for s in settings.nats_url.split(",") if s.strip()],
        "name": f"accessbot-{name}",
        "max_reconnect_attempts": -1,
        "reconnect_time_wait": RECONNECT_WAIT_SECONDS,
        **connection_extras(),
    }
    if settings.nats_user:
        options["user"] = settings.nats_user
        options["inbox_prefix"] = inbox_prefix(settings.nats_user)
        if settings.nats_password is not None:
            options["password"] = settings.nats_password.get_secret_value()
    return options


def _chain(first: Callback, then: Callback) -> Callback:
    async def both(*args: Any) -> None:
        await first(*args)
        await then(*args)

    return both


def with_callbacks(reach: NatsReachability, extra: dict[str, Any]) -> dict[str, Any]:
    """`extra` plus the reporter's callbacks; a caller's callback of the same name runs
    after ours, except `error_cb`, which replaces ours (the caller decides what a failed
    attempt means, e.g. `deadletter` gives up at once)."""
    merged = dict(extra)
    for key, ours in reach.callbacks().items():
        theirs = extra.get(key)
        if theirs is None:
            merged[key] = ours
        elif key != "error_cb":
            merged[key] = _chain(ours, theirs)
    return merged


def reachability_for(settings: ServiceSettings) -> NatsReachability:
    """The connection reporter for a client connecting with `settings`."""
    return NatsReachability(settings.nats_url, settings.nats_user)


async def connect(
    settings: ServiceSettings,
    *,
    name: str,
    reachability: NatsReachability | None = None,
    **extra: Any,
) -> Client:
    """A nats-py client connected as the settings' user (`extra` overrides options)."""
    reach = reachability or reachability_for(settings)
    client = await nats.connect(
        **{**connect_options(settings, name=name), **with_callbacks(reach, extra)}
    )
    await reach.on_connected()
    return client


def make_broker(settings: ServiceSettings, *, name: str, **extra: Any) -> NatsBroker:
    """A FastStream NatsBroker that connects as the settings' user."""
    reach = reachability_for(settings)
    options = {**connect_options(settings, name=name), **with_callbacks(reach, extra)}
    user, password = options.pop("user", None), options.pop("password", None)
    security = SASLPlaintext(username=user, password=password or "") if user is not None else None
    # No FastDepends: our subscribers take the NatsMessage itself (shared.subscribing), which
    # FastDepends would inject from its context through a worker thread for every message.
    broker = NatsBroker(**options, security=security, logger=library_logger(), apply_types=False)
    _BROKER_REACHABILITY[broker] = reach
    prefix = str(options.get("inbox_prefix") or "_INBOX")
    _BROKER_INBOX_PREFIX[broker] = f"{prefix.rstrip('.')}.".encode()
    return broker


def broker_inbox_prefix(broker: NatsBroker) -> bytes:
    """The per-user inbox prefix `broker` connects with, dot-terminated (the only inbox the
    permission matrix lets a service subscribe to; FastStream's pull subscribers default to
    `_INBOX.`, which `DEFAULT_INBOX_PREFIX` is for a broker made elsewhere)."""
    return _BROKER_INBOX_PREFIX.get(broker, DEFAULT_INBOX_PREFIX)


def broker_reachability(broker: NatsBroker, settings: ServiceSettings) -> NatsReachability:
    """The reporter `make_broker` gave `broker` (a fresh one for a broker made elsewhere)."""
    return _BROKER_REACHABILITY.get(broker) or reachability_for(settings)
