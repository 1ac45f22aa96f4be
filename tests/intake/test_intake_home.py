"""`app_home_opened` (Socket Mode and signed HTTP): acked at once, and for the Home tab
the notifier is asked to publish it (`access.home.requested`, the opener's identity)."""

from __future__ import annotations

import asyncio

from shared.contracts.events import Person, PublishHome
from shared.contracts.subjects import Subject
from shared.ids import is_valid_id
from tests.intake.conftest import ERIN, Intake, published, wait_published

ERIN_PERSON = Person(email="erin@example.com", slack_user_id=ERIN.id, name="Erin Requester")


async def test_opening_the_home_tab_asks_for_it_to_be_published(intake: Intake) -> None:
    assert await intake.emu.driver.open_home(ERIN.id) is None  # acked, nothing in the ack
    [asked] = await wait_published(intake.js, Subject.HOME_REQUESTED.value)
    assert isinstance(asked.event, PublishHome)
    assert asked.event.person == ERIN_PERSON
    assert is_valid_id(asked.event.request_id)
    assert asked.meta.id == asked.event.request_id  # derived from Slack's event id
    assert asked.meta.source == "accessbot/intake"


async def test_the_messages_tab_asks_for_nothing(intake: Intake) -> None:
    assert await intake.emu.driver.open_home(ERIN.id, tab="messages") is None
    await asyncio.sleep(0.3)
    assert await published(intake.js, Subject.HOME_REQUESTED.value) == []
