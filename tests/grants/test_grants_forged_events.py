"""A copy of an event answered into ACCESS by a direct get is not an event (issue 11, 7).

Permissions cannot check a request's reply subject: any user allowed a direct get on a
bucket it writes (the notifier on `slack_messages`) can store a copy of a genuine
`access.request.approved`, headers included, and ask for it with that subject as the
reply, and ACCESS stores the answer. nats-server stamps `Nats-Stream` on the answer, and
consumers refuse events that carry it. Run against the real grants service.
"""

from __future__ import annotations

import asyncio

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.tailscale import TailscaleEmulator
from shared.connection import connect
from shared.contracts.subjects import Bucket, Subject
from shared.publishing import EventPublisher
from tests.conftest import settings_for
from tests.grants.support import (
    ATTRIBUTE,
    ATTRIBUTE_PATH,
    EventTap,
    approval,
    grants_settings,
    owned_device,
    running,
)


async def test_an_approval_answered_into_access_by_the_notifier_grants_nothing(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: TailscaleEmulator
):
    device = owned_device(emulator)
    genuine = approval(device)
    await EventPublisher(admin_js, source="accessbot/approvals").publish(genuine)
    stored = await admin_js.get_msg("ACCESS", subject=Subject.REQUEST_APPROVED.value)
    await admin_js.purge_stream("ACCESS")  # only the copy will be there
    ce_headers = {k: v for k, v in (stored.headers or {}).items() if k.startswith("ce-")}

    notifier = await connect(settings_for(nats_server, "notifier"), name="test-notifier")
    try:
        bucket = Bucket.SLACK_MESSAGES.value
        # Stored (acknowledged) before the direct get asks for it.
        await notifier.jetstream().publish(
            f"$KV.{bucket}.copy", stored.data or b"", headers=ce_headers
        )
        await notifier.publish(
            f"$JS.API.DIRECT.GET.KV_{bucket}",
            f'{{"last_by_subj": "$KV.{bucket}.copy"}}'.encode(),
            reply=Subject.REQUEST_APPROVED.value,
        )
        await notifier.flush()
    finally:
        await notifier.close()
    for _ in range(50):  # the answer lands in ACCESS asynchronously
        if (await admin_js.stream_info("ACCESS")).state.messages:
            break
        await asyncio.sleep(0.05)
    copy = await admin_js.get_msg("ACCESS", subject=Subject.REQUEST_APPROVED.value)
    assert copy.headers is not None
    assert copy.headers["ce-id"] == ce_headers["ce-id"]
    assert copy.headers["Nats-Stream"] == f"KV_{Bucket.SLACK_MESSAGES.value}"

    tap = await EventTap.open(admin_js)
    async with running(grants_settings(nats_server, emulator)):
        await asyncio.sleep(2)  # time enough for grants to have applied it
    assert emulator.calls_to("POST", ATTRIBUTE_PATH) == []
    assert ATTRIBUTE not in emulator.attributes(device["nodeId"])
    assert tap.of(Subject.GRANT_APPLIED) == []
