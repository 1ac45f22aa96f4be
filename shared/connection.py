"""Connecting to NATS as one Accessbot user (per-user inbox prefix, credentials)."""

from __future__ import annotations

from typing import Any

import nats
from faststream.nats import NatsBroker
from faststream.security import SASLPlaintext
from nats.aio.client import Client

from shared.logging import library_logger
from shared.permissions import inbox_prefix
from shared.settings import ServiceSettings


def connect_options(settings: ServiceSettings, *, name: str) -> dict[str, Any]:
    """Keyword arguments for nats-py's `connect` (also accepted by FastStream's broker)."""
    options: dict[str, Any] = {
        "servers": [s.strip() for s in settings.nats_url.split(",") if s.strip()],
        "name": f"accessbot-{name}",
        "max_reconnect_attempts": -1,
    }
    if settings.nats_user:
        options["user"] = settings.nats_user
        options["inbox_prefix"] = inbox_prefix(settings.nats_user)
        if settings.nats_password is not None:
            options["password"] = settings.nats_password.get_secret_value()
    return options


async def connect(settings: ServiceSettings, *, name: str, **extra: Any) -> Client:
    """A nats-py client connected as the settings' user."""
    return await nats.connect(**{**connect_options(settings, name=name), **extra})


def make_broker(settings: ServiceSettings, *, name: str, **extra: Any) -> NatsBroker:
    """A FastStream NatsBroker that connects as the settings' user."""
    options = connect_options(settings, name=name)
    user, password = options.pop("user", None), options.pop("password", None)
    security = SASLPlaintext(username=user, password=password or "") if user is not None else None
    return NatsBroker(**options, security=security, logger=library_logger(), **extra)
