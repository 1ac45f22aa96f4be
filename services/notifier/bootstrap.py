"""The notifier's composition root: the one place its parts are built and wired.

Nothing happens at import time; `build` only constructs, `Service.start` connects.
"""

from __future__ import annotations

from typing import Any

from nats.js import JetStreamContext
from slack_sdk.web.async_client import AsyncWebClient

from services.notifier.adapters.home_index import HomeIndexStore
from services.notifier.adapters.slack_gateway import SlackGateway
from services.notifier.adapters.store import RecordStore
from services.notifier.entrypoints.subscribers import SERVICE, Handlers, subscribe
from services.notifier.handlers import DeadLetterNotices, Notifier
from services.notifier.handlers.home import HomePublisher
from services.notifier.settings import NotifierSettings
from shared.connection import make_broker
from shared.logging import configure_logging
from shared.profiles import ProfilesConfig, load_profiles
from shared.runtime import Service, Wiring, run_process
from shared.slack_web import PooledSlackSession, web_client
from shared.startup import build_or_exit, settings_or_exit

# A 429 burst is waited out inside the call (Retry-After honoured) this many times
# before the event is handed back to JetStream for a later retry.
RATE_LIMIT_RETRIES = 6
SERVER_ERROR_RETRIES = 2
CONNECTION_RETRIES = 2
SLACK_TIMEOUT_SECONDS = 10


def slack_client(settings: NotifierSettings) -> AsyncWebClient:
    """The Web API client, with retries for rate limits, 5xx and dropped connections."""
    return web_client(
        settings.slack_bot_token,
        settings.slack_api_url,
        timeout=SLACK_TIMEOUT_SECONDS,
        connection_retries=CONNECTION_RETRIES,
        rate_limit_retries=RATE_LIMIT_RETRIES,
        server_error_retries=SERVER_ERROR_RETRIES,
    )


def build(
    settings: NotifierSettings,
    *,
    profiles: ProfilesConfig | None = None,
    client: AsyncWebClient | None = None,
    **broker_options: Any,
) -> Service:
    """The notifier service: broker, KV store, Slack client, subscribers, hooks."""
    profiles = profiles if profiles is not None else load_profiles(settings.profiles_path)
    web = client if client is not None else slack_client(settings)
    session = PooledSlackSession(web)
    slack = SlackGateway(web)

    async def wire(js: JetStreamContext) -> Handlers:
        store = await RecordStore.open(js)
        notifier = Notifier(
            store=store, slack=slack, profiles=profiles, admin_url=settings.tailscale_admin_url
        )
        home = HomePublisher(
            records=store,
            indexes=await HomeIndexStore.open(js),
            slack=slack,
            contexts=notifier.context,
        )
        notifier.with_home(home)
        return Handlers(
            notifier=notifier,
            deadletters=DeadLetterNotices(store=store, slack=slack, profiles=profiles),
            home=home,
        )

    wiring = Wiring(wire)
    broker = make_broker(settings, name=SERVICE, **broker_options)
    subscribe(broker, wiring)

    async def kv_open() -> bool:
        return wiring.wired

    async def check_slack_token() -> None:
        await slack.authenticate()

    async def stop_home_refresh() -> None:
        if wiring.wired:
            await wiring.handlers.home.close()

    return Service(
        name=SERVICE,
        settings=settings,
        broker=broker,
        on_connected=[wiring.connect, session.open],
        on_started=[check_slack_token],
        on_stop=[session.close, stop_home_refresh],  # run in reverse: the refresh first
        ready_checks={"kv": kv_open, "slack": slack.is_authenticated},
    )


def main() -> None:
    """Run the notifier with settings from the environment until SIGINT/SIGTERM."""
    settings = settings_or_exit(SERVICE, NotifierSettings)
    configure_logging(SERVICE, fmt=settings.log_format, level=settings.log_level)
    run_process(build_or_exit(SERVICE, build, settings))
