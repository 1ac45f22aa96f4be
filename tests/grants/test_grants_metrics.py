"""Grants' series after a real grant: Tailscale calls, latencies, the active-grants gauge."""

from __future__ import annotations

import httpx
from nats.js import JetStreamContext
from prometheus_client import REGISTRY

from accessbot.natsserver import EmbeddedNats
from emulators.tailscale import Fault, TailscaleEmulator
from services.grants.adapters.tailscale.metrics import endpoint_of
from shared.contracts.subjects import Subject
from shared.publishing import EventPublisher
from tests.grants.support import (
    ATTRIBUTE_PATH,
    EventTap,
    approval,
    grants_settings,
    owned_device,
    running,
)


def value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def test_endpoint_labels_never_hold_a_device_id():
    assert endpoint_of("/oauth/token") == "oauth_token"
    assert endpoint_of("/tailnet/example.com/devices") == "devices"
    assert endpoint_of("/device/n292kg92CNTRL/attributes") == "device_attributes"
    assert endpoint_of("/device/n292kg92CNTRL/attributes/custom:prodAccess") == "device_attribute"
    assert endpoint_of("/device/n292kg92CNTRL/routes") == "other"


async def test_a_grant_moves_the_call_counters_latencies_and_gauge(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    post = {"method": "POST", "endpoint": "device_attribute"}
    before = {
        "ok": value("accessbot_tailscale_api_calls_total", **post, status="200"),
        "limited": value("accessbot_tailscale_api_calls_total", **post, status="429"),
        "retries": value("accessbot_tailscale_api_retries_total", **post, status="429"),
        "applied": value("accessbot_grant_approved_to_applied_seconds_count"),
        "late": value("accessbot_grant_expiry_lateness_seconds_count"),
        "late_sum": value("accessbot_grant_expiry_lateness_seconds_sum"),
    }
    tap = await EventTap.open(admin_js)
    device = owned_device(emulator)
    publisher = EventPublisher(admin_js, source="test/approvals")
    short, longer = approval(device, duration=2), approval(device, duration=600)
    emulator.inject(Fault(kind="429", retry_after=0, path=ATTRIBUTE_PATH, method="POST"))
    settings = grants_settings(nats_server, emulator, health_port=0)
    async with running(settings) as service:
        await publisher.publish(short)
        await tap.wait_for(Subject.GRANT_APPLIED, short.request_id)
        await publisher.publish(longer)
        await tap.wait_for(Subject.GRANT_APPLIED, longer.request_id)
        await tap.wait_for(Subject.GRANT_EXPIRED, short.request_id, timeout=8)
        assert service.health is not None
        url = f"http://127.0.0.1:{service.health.bound_port}/metrics"
        async with httpx.AsyncClient() as http:
            text = (await http.get(url)).text

    assert 'accessbot_active_grants{profile="prod"} 1.0' in text.splitlines()
    assert (
        value("accessbot_tailscale_api_calls_total", **post, status="429") - before["limited"] == 1
    )
    # short's set, longer's set, and at short's end the remaining holder's end written again
    assert value("accessbot_tailscale_api_calls_total", **post, status="200") - before["ok"] == 3
    assert (
        value("accessbot_tailscale_api_retries_total", **post, status="429") - before["retries"]
        == 1
    )
    assert value("accessbot_grant_approved_to_applied_seconds_count") - before["applied"] == 2
    assert value("accessbot_grant_expiry_lateness_seconds_count") - before["late"] == 1
    lateness = value("accessbot_grant_expiry_lateness_seconds_sum") - before["late_sum"]
    assert 0 <= lateness < 8
