"""Intake's composition root: the one place its parts are built and wired.

Nothing happens at import time; `build` only constructs, `Service.start` connects
(NATS, then the device watch, then Slack).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import structlog
from nats.js import JetStreamContext
from slack_sdk.web.async_client import AsyncWebClient

from services.intake.adapters.claims import ClaimReader
from services.intake.adapters.device_watch import DeviceWatch
from services.intake.adapters.slack_gateway import SlackGateway
from services.intake.domain.device_index import DeviceIndex
from services.intake.entrypoints.transport_http import HttpTransport
from services.intake.entrypoints.transport_socket import SocketTransport
from services.intake.handlers.approver_groups import ApproverGroups
from services.intake.handlers.directory import Directory
from services.intake.handlers.dispatcher import Dispatcher
from services.intake.handlers.handling import Deps
from services.intake.settings import IntakeSettings
from shared.connection import make_broker
from shared.contracts.subjects import Bucket
from shared.logging import configure_logging
from shared.profiles import ProfilesConfig, load_profiles
from shared.publishing import EventPublisher
from shared.runtime import Service, Wiring, run_process
from shared.slack_web import PooledSlackSession, web_client
from shared.startup import build_or_exit, settings_or_exit

SERVICE = "intake"
SOURCE = "accessbot/intake"
SLACK_TIMEOUT_SECONDS = 5  # intake answers people: fail fast rather than hang
RETRIES = 1  # a retried call must still fit in Slack's 3-second window more often than not
INITIAL_DEVICES_WAIT_SECONDS = 30.0
# A submission is answered only after JetStream stored it, inside Slack's 3-second window:
# when NATS is slow or down the person must see "could not be submitted", not a closed
# form, so the publish gives up well before the transport's ack deadline (2.9 s).
PUBLISH_TIMEOUT_SECONDS = 2.0

log = structlog.get_logger("accessbot.intake")


@dataclass(frozen=True, slots=True)
class Slack:
    """Slack's way in, built once connected: the transport and whether it is up."""

    transport: SocketTransport | HttpTransport
    ready: Callable[[], Awaitable[bool]]


def slack_client(settings: IntakeSettings) -> AsyncWebClient:
    """The Web API client with retries for dropped connections, 429 (Retry-After) and 5xx."""
    return web_client(
        settings.slack_bot_token,
        settings.slack_api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        connection_retries=RETRIES,
        rate_limit_retries=RETRIES,
        server_error_retries=RETRIES,
    )


def build(
    settings: IntakeSettings,
    *,
    profiles: ProfilesConfig | None = None,
    client: AsyncWebClient | None = None,
    **broker_options: Any,
) -> Service:
    """The intake service: Slack client and transport, device index and watch, broker, hooks."""
    profiles = profiles if profiles is not None else load_profiles(settings.profiles_path)
    web = client if client is not None else slack_client(settings)
    session = PooledSlackSession(web)
    slack = SlackGateway(web)
    devices = DeviceIndex()
    watch = DeviceWatch(devices)
    if settings.slack_mode == "socket" and settings.slack_app_token is not None:
        app_token = settings.slack_app_token.get_secret_value()

        def transport_for(dispatcher: Dispatcher) -> Slack:
            transport = SocketTransport(dispatcher, app_token=app_token, web_client=web)
            return Slack(transport, transport.connected)

    elif settings.slack_mode == "http" and settings.slack_signing_secret is not None:
        signing_secret = settings.slack_signing_secret.get_secret_value()

        def transport_for(dispatcher: Dispatcher) -> Slack:
            transport = HttpTransport(
                dispatcher,
                signing_secret=signing_secret,
                host=settings.slack_http_host,
                port=settings.slack_http_port,
            )
            return Slack(transport, transport.listening)

    else:  # IntakeSettings' own validation rules this out
        raise ValueError(f"no Slack credentials for SLACK_MODE={settings.slack_mode}")

    async def wire(js: JetStreamContext) -> Slack:
        # The dispatcher publishes, so it (and the transport feeding it) exists once connected.
        publisher = EventPublisher(js, source=SOURCE, timeout=PUBLISH_TIMEOUT_SECONDS)
        people = Directory(slack)
        deps = Deps(
            profiles=profiles,
            devices=devices,
            people=people,
            views=slack,
            publisher=publisher,
            groups=ApproverGroups(slack, people),
            claims=ClaimReader(await js.key_value(Bucket.DEVICE_CLAIMS.value)),
        )
        return transport_for(Dispatcher(deps))

    wiring = Wiring(wire)

    async def load_devices(js: JetStreamContext) -> None:
        watch.start(js)
        # Answer device searches from a complete index from the first interaction on.
        try:
            await asyncio.wait_for(watch.loaded.wait(), INITIAL_DEVICES_WAIT_SECONDS)
        except TimeoutError:
            log.warning("devices.not_loaded_yet", waited_s=INITIAL_DEVICES_WAIT_SECONDS)

    async def start_transport() -> None:
        await wiring.handlers.transport.start()  # on_started runs only after the wiring hook

    async def stop_transport() -> None:
        if wiring.wired:
            await wiring.handlers.transport.stop()

    async def slack_ready() -> bool:
        return wiring.wired and await wiring.handlers.ready()

    async def devices_loaded() -> bool:
        return devices.loaded

    return Service(
        name=SERVICE,
        settings=settings,
        broker=make_broker(settings, name=SERVICE, **broker_options),
        on_connected=[wiring.connect, session.open, load_devices],
        on_started=[start_transport],
        # run in reverse: Slack first, then the watch, then the HTTP session
        on_stop=[session.close, watch.stop, stop_transport],
        ready_checks={"slack": slack_ready, "devices": devices_loaded},
    )


def main() -> None:
    """Run intake with settings from the environment until SIGINT/SIGTERM."""
    settings = settings_or_exit(SERVICE, IntakeSettings)
    configure_logging(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run_process(build_or_exit(SERVICE, build, settings))
