"""The subscriber runtime's and Slack client's series move with what really happened."""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import UTC, datetime

import aiohttp
from nats.js import JetStreamContext
from prometheus_client import REGISTRY
from pydantic import SecretStr

from accessbot.natsserver import EmbeddedNats
from emulators.slack import SlackEmulator
from shared.connection import make_broker
from shared.consumers import consumer
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import GrantExpired, Person
from shared.health import HealthServer
from shared.ids import new_id
from shared.metrics.exposition import MetricsExposition
from shared.metrics.slack import method_of
from shared.permissions import ADMIN_USER
from shared.publishing import EventPublisher
from shared.retry import RetryLaterError
from shared.slack_web import web_client
from shared.subscribing import subscribe_events
from tests.conftest import settings_for
from tests.shared.test_deadletter import NOTIFIER, Handler, crash_on_every_delivery, pending_soon

CONSUMER = "notifier_grant_expired"
SUBJECT = "access.grant.expired"


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def outcome(kind: str) -> float:
    return value("accessbot_events_total", consumer=CONSUMER, subject=SUBJECT, outcome=kind)


def _expired() -> GrantExpired:
    return GrantExpired(
        request_id=new_id(),
        requester=Person(email="alice@example.com"),
        profile_id="prod",
        device_id="n292kg92CNTRL",
        attribute="custom:prodAccess",
        expired_at=datetime(2026, 11, 30, 10, 0, tzinfo=UTC),
    )


async def test_outcomes_latency_and_redeliveries_are_counted(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    before = {k: outcome(k) for k in ("handled", "deferred", "failed", "rejected")}
    redelivered = value("accessbot_event_redeliveries_total", consumer=CONSUMER, subject=SUBJECT)
    timed = value("accessbot_event_handler_seconds_count", consumer=CONSUMER, subject=SUBJECT)
    runs: list[str] = []
    done = asyncio.Event()

    async def handler(env: Envelope[GrantExpired]) -> None:
        runs.append(env.meta.id)
        if len(runs) == 1:
            raise RetryLaterError("another replica holds it", delay=0.1)
        if len(runs) == 2:
            raise ConnectionError("Slack is down")
        done.set()

    await admin_js.publish(SUBJECT, b"{not json", headers={"ce-id": "x"})
    await EventPublisher(admin_js, source="test").publish(_expired())
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, consumer("notifier", CONSUMER), GrantExpired, handler)
    async with broker:
        await broker.start()
        await asyncio.wait_for(done.wait(), timeout=15)
        await asyncio.sleep(0.2)  # the ack and its count follow the handler
    delta = {k: outcome(k) - v for k, v in before.items()}
    assert delta == {"handled": 1, "deferred": 1, "failed": 1, "rejected": 1}
    after = value("accessbot_event_redeliveries_total", consumer=CONSUMER, subject=SUBJECT)
    assert after - redelivered == 2
    timed_after = value("accessbot_event_handler_seconds_count", consumer=CONSUMER, subject=SUBJECT)
    assert timed_after - timed == 3  # the rejected one never reached the handler


async def test_the_last_failed_delivery_is_counted_as_dead_lettered(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    spec = dataclasses.replace(consumer("notifier", CONSUMER), max_deliver=2)
    before = (outcome("dead_lettered"), outcome("failed"))
    letters = value("accessbot_dead_letters_total", consumer=CONSUMER, source="handler")
    attempts: list[int] = []

    async def poison(_: Envelope[GrantExpired]) -> None:
        attempts.append(1)
        raise ValueError("never works")

    await EventPublisher(admin_js, source="test").publish(_expired())
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, spec, GrantExpired, poison)
    async with broker:
        await broker.start()
        for _ in range(100):
            if outcome("dead_lettered") > before[0]:
                break
            await asyncio.sleep(0.1)
    assert len(attempts) == 2
    assert (outcome("dead_lettered") - before[0], outcome("failed") - before[1]) == (1, 1)
    after = value("accessbot_dead_letters_total", consumer=CONSUMER, source="handler")
    assert after - letters == 1


async def test_slack_calls_are_counted_by_method_and_status_with_429_retries() -> None:
    method = "auth.test"
    ok = value("accessbot_slack_api_calls_total", method=method, status="200")
    limited = value("accessbot_slack_api_calls_total", method=method, status="429")
    retries = value("accessbot_slack_api_retries_total", method=method, reason="rate_limited")
    async with SlackEmulator(bot_token="xoxb-t") as emu:
        client = web_client(
            SecretStr("xoxb-t"),
            emu.api_url,
            timeout=5,
            connection_retries=0,
            rate_limit_retries=2,
            server_error_retries=0,
        )
        emu.rate_limit_next(method, count=1, retry_after=0)
        answer = await client.auth_test()
        assert answer["ok"] is True
    assert value("accessbot_slack_api_calls_total", method=method, status="429") - limited == 1
    assert value("accessbot_slack_api_calls_total", method=method, status="200") - ok == 1
    after = value("accessbot_slack_api_retries_total", method=method, reason="rate_limited")
    assert after - retries == 1


def test_slack_method_labels_stay_within_a_bounded_vocabulary() -> None:
    assert method_of("https://slack.com/api/chat.postMessage") == "chat.postMessage"
    assert method_of("http://127.0.0.1:1234/api/users.lookupByEmail?x=1") == "users.lookupByEmail"
    assert method_of("https://slack.com/api/") == "other"
    assert method_of("https://slack.com/api/" + "a." * 100) == "other"


async def test_metrics_are_served_in_prometheus_text_with_refreshed_gauges() -> None:
    refreshed: list[int] = []

    async def refresh() -> None:
        refreshed.append(1)

    server = HealthServer("t", "127.0.0.1", 0, MetricsExposition([refresh], min_interval=60))
    await server.start()
    try:
        async with aiohttp.ClientSession() as http:
            url = f"http://127.0.0.1:{server.bound_port}/metrics"
            for _ in range(2):
                async with http.get(url) as response:
                    assert response.status == 200
                    assert response.content_type == "text/plain"
                    text = await response.text()
    finally:
        await server.stop()
    assert "# TYPE accessbot_events_total counter" in text
    assert "# TYPE accessbot_slack_api_calls_total counter" in text
    assert refreshed == [1]  # the second scrape came within the interval


async def test_a_failing_refresh_keeps_the_scrape_answering() -> None:
    failures = value("accessbot_metrics_refresh_failures_total")

    async def broken() -> None:
        raise ConnectionError("NATS went away")

    text = (await MetricsExposition([broken]).render()).decode()
    assert "accessbot_events_total" in text
    assert value("accessbot_metrics_refresh_failures_total") - failures == 1


async def test_a_dead_letter_the_advisory_records_is_counted_once(
    nats_server: EmbeddedNats, admin_js: JetStreamContext
) -> None:
    durable = NOTIFIER.durable
    advised = value("accessbot_dead_letters_total", consumer=durable, source="advisory")
    await crash_on_every_delivery(admin_js, new_id(), new_id())
    broker = make_broker(settings_for(nats_server, ADMIN_USER), name="t")
    subscribe_events(broker, NOTIFIER, GrantExpired, Handler("never"))
    async with broker:
        await broker.start()
        await pending_soon(admin_js)
    after = value("accessbot_dead_letters_total", consumer=durable, source="advisory")
    assert after - advised == 1
