"""The Home tab through the real notifier, NATS and the Slack emulator: the index kept in
KV from the events, and `access.home.requested` published with views.publish."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nats.js import JetStreamContext

from accessbot.natsserver import EmbeddedNats
from emulators.slack import SlackEmulator
from services.notifier.adapters.home_index import HomeIndexStore
from services.notifier.adapters.store import RecordStore
from services.notifier.domain.home_index import HomeIndex, home_key
from shared.contracts.events import Person, PublishHome
from shared.contracts.subjects import Bucket
from shared.slack_ids import ActionId, BlockId
from tests.notifier import notifier_factories as f
from tests.notifier.notifier_harness import (
    BOT_TOKEN,
    USER_IDS,
    Outbox,
    running,
    workspace,
    write_profiles,
)

HOME_ID = "01JDQ5A2B3C4D5E6F7G8H9J0KM"


def actions_in(home: dict[str, Any], section: BlockId) -> set[str]:
    return {
        element["action_id"]
        for block in home["blocks"]
        if block["block_id"].startswith(f"{section.value}:") and block["type"] == "actions"
        for element in block["elements"]
    }


async def test_opening_the_home_publishes_it_from_the_indexed_requests(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    profiles = write_profiles(tmp_path)
    async with SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu:
        async with running(nats_server, profiles, emu):
            outbox = Outbox(admin_js)
            for event in (f.submitted(), f.approval_requested(), f.approved(), f.applied()):
                await outbox.publish(event)
            await outbox.publish(PublishHome(request_id=HOME_ID, person=f.DAVE))
            # Alice's events name her by email only: her Slack id is looked up
            alice = Person(email=f.ALICE.email)
            await outbox.publish(PublishHome(request_id=f.EXTENSION_ID, person=alice))
        dave = emu.home(USER_IDS["dave"])
        assert dave is not None
        assert actions_in(dave, BlockId.HOME_ACTIVE) == {
            ActionId.EXTEND.value,
            ActionId.REVOKE.value,
        }
        assert emu.home(USER_IDS["alice"]) is not None  # nothing waits for her: approved
        assert actions_in(emu.home(USER_IDS["alice"]) or {}, BlockId.HOME_DECIDE) == set()
    kv = await admin_js.key_value(Bucket.SLACK_MESSAGES.value)
    for who in (f.DAVE, f.ALICE, f.BOB):
        entry = await kv.get(home_key(who.email))
        assert entry.value is not None
        assert HomeIndex.model_validate_json(entry.value).request_ids == [f.REQUEST_ID]
    # one bucket, two kinds of value: each store lists only its own
    records = await RecordStore.open(admin_js)
    assert [r.key for r in await records.records.all()] == [f.REQUEST_ID]
    indexes = await HomeIndexStore.open(admin_js)
    assert len(await indexes.indexes.all()) == 3


async def test_a_home_tab_switched_off_is_logged_and_skipped(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    profiles = write_profiles(tmp_path)
    async with SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu:
        emu.set_home_tab_enabled(False)
        async with running(nats_server, profiles, emu):
            outbox = Outbox(admin_js)
            await outbox.publish(f.submitted())
            await outbox.publish(PublishHome(request_id=HOME_ID, person=f.DAVE))  # acked
            refused = [c for c in emu.api_calls if c.method == "views.publish"]
        assert [c.ok for c in refused] == [False]
        assert emu.home(USER_IDS["dave"]) is None


async def test_a_home_opened_once_follows_the_request_without_opening_it_again(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, tmp_path: Path
) -> None:
    profiles = write_profiles(tmp_path)
    async with SlackEmulator(workspace=workspace(), bot_token=BOT_TOKEN) as emu:
        async with running(nats_server, profiles, emu):
            outbox = Outbox(admin_js)
            await outbox.publish(PublishHome(request_id=HOME_ID, person=f.DAVE))
            await outbox.publish(f.submitted())
            dave = USER_IDS["dave"]
            await emu.wait_until(
                lambda: (
                    actions_in(emu.home(dave) or {}, BlockId.HOME_PENDING)
                    == {ActionId.CANCEL.value}
                ),
                10.0,
            )
            for event in (f.approval_requested(), f.approved(), f.applied()):
                await outbox.publish(event)
            await emu.wait_until(
                lambda: (
                    actions_in(emu.home(dave) or {}, BlockId.HOME_ACTIVE)
                    == {ActionId.EXTEND.value, ActionId.REVOKE.value}
                ),
                10.0,
            )
            published = len(emu.homes_published(dave))
        # opened once, then one publish per burst of changes: never one per event
        assert 2 <= published <= 5
        assert emu.home(USER_IDS["alice"]) is None  # Alice never opened hers
