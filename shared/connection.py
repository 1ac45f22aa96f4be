"""Connecting to NATS as one Accessbot user (per-user inbox prefix, credentials).

Every client retries forever and reports through `shared.reachability`: a line per
failed attempt (at most every few seconds), the reason for `/healthz`, and a refused
password as `NatsRefusedError` instead of endless tracebacks.
"""

from __future__ import annotations

import weakref
from typing import Any

import nats
from faststream.nats import NatsBroker
from faststream.security import SASLPlaintext
from nats.aio.client import Client

from shared.logging import library_logger
from shared.permissions import inbox_prefix
from shared.reachability import NatsReachability, connection_extras
from shared.settings import ServiceSettings

_BROKER_REACHABILITY: weakref.WeakKeyDictionary[NatsBroker, NatsReachability] = (
    weakref.WeakKeyDictionary()
)


def connect_options(settings: ServiceSettings, *, name: str) -> dict[str, Any]:
    """Keyword arguments for nats-py's `connect` (also accepted by FastStream's broker)."""
    options: dict[str, Any] = {
        "servers": [s.strip() for s in settings.nats_url.split(",") if s.strip()],
        "name": f"accessbot-{name}",
        "max_reconnect_attempts": -1,
        **connection_extras(),
    }
    if settings.nats_user:
        options["user"] = settings.nats_user
        options["inbox_prefix"] = inbox_prefix(settings.nats_user)
        if settings.nats_password is not None:
            options["password"] = settings.nats_password.get_secret_value()
    return options


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
    options = {**connect_options(settings, name=name), **reach.callbacks(), **extra}
    client = await nats.connect(**options)
    await reach.on_connected()
    return client


def make_broker(settings: ServiceSettings, *, name: str, **extra: Any) -> NatsBroker:
    """A FastStream NatsBroker that connects as the settings' user."""
    reach = reachability_for(settings)
    options = {**connect_options(settings, name=name), **reach.callbacks()}
    user, password = options.pop("user", None), options.pop("password", None)
    security = SASLPlaintext(username=user, password=password or "") if user is not None else None
    broker = NatsBroker(**options, security=security, logger=library_logger(), **extra)
    _BROKER_REACHABILITY[broker] = reach
    return broker


def broker_reachability(broker: NatsBroker, settings: ServiceSettings) -> NatsReachability:
    """The reporter `make_broker` gave `broker` (a fresh one for a broker made elsewhere)."""
    return _BROKER_REACHABILITY.get(broker) or reachability_for(settings)
