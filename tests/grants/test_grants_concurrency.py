"""One grant waiting out Tailscale's retries never holds up another request's grant."""

from __future__ import annotations

import time

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.tailscale import Fault, TailscaleEmulator
from shared.contracts.subjects import Subject
from shared.publishing import EventPublisher
from tests.grants.support import (
    ATTRIBUTE,
    EventTap,
    approval,
    grants_settings,
    running,
    wait_until,
)


def _attribute_path(node_id: str) -> str:
    return rf"/device/{node_id}/attributes/{ATTRIBUTE}$"


async def test_five_429s_for_one_request_do_not_delay_another_requests_attribute(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    tap = await EventTap.open(admin_js)
    first, second = [
        d for d in emulator.devices() if d.get("user") == "carol@example.com" and not d.get("tags")
    ][:2]
    slow, quick = approval(first), approval(second)
    slow_path = _attribute_path(first["nodeId"])
    emulator.inject(Fault(kind="429", count=5, retry_after=1, path=slow_path, method="POST"))
    publisher = EventPublisher(admin_js, source="test/approvals")
    settings = grants_settings(
        nats_server, emulator, tailscale_retry_budget_seconds=15.0, grants_lease_seconds=20.0
    )
    async with running(settings):
        await publisher.publish(slow)
        await wait_until(
            lambda: len(emulator.calls_to("POST", slow_path)) >= 1, what="the slow one's 429"
        )
        approved_at = time.monotonic()
        await publisher.publish(quick)
        await wait_until(
            lambda: ATTRIBUTE in emulator.attributes(second["nodeId"]), what="the quick one"
        )
        await tap.wait_for(Subject.GRANT_APPLIED, slow.request_id, timeout=20)

    [quick_post] = emulator.calls_to("POST", _attribute_path(second["nodeId"]))
    assert quick_post.status == 200
    assert quick_post.monotonic - approved_at < 1.0, "set within 1 s of its approval"
    slow_posts = emulator.calls_to("POST", slow_path)
    assert [c.status for c in slow_posts] == [429] * 5 + [200]
    assert quick_post.monotonic < slow_posts[-1].monotonic, "it did not wait for the retries"
    assert tap.of(Subject.GRANT_FAILED) == []
