"""Payload parsing, modal metadata, delivery dedupe, the identity cache and settings."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from pydantic import ValidationError

from services.intake.domain.form_state import RequestFormState
from services.intake.domain.interactions import (
    ButtonPressed,
    DeviceSuggestion,
    Ignored,
    ProfileChosen,
    ShortcutPressed,
    ViewSubmitted,
    delivery_key,
    parse_interaction,
)
from services.intake.domain.metadata import ModalMetadata
from services.intake.handlers.deliveries import RecentDeliveries
from services.intake.handlers.ttl_cache import TtlCache
from services.intake.settings import IntakeSettings
from shared.contracts.events import EXAMPLE_EXTENSION_ID, EXAMPLE_REQUEST_ID
from shared.slack_ids import ANY_APPROVER, ActionId, ButtonValue, CallbackId

USER = {"id": "U_ERIN", "username": "erin", "team_id": "T1"}


def test_shortcut() -> None:
    payload = {
        "type": "shortcut",
        "callback_id": "request_access",
        "trigger_id": "t1",
        "user": USER,
    }
    assert parse_interaction(payload) == ShortcutPressed(user_id="U_ERIN", trigger_id="t1")
    other = parse_interaction({**payload, "callback_id": "something_else"})
    assert isinstance(other, Ignored)


def test_profile_choice_in_the_open_modal() -> None:
    payload = {
        "type": "block_actions",
        "user": USER,
        "container": {"type": "view", "view_id": "V1"},
        "view": {"id": "V1", "hash": "h1", "private_metadata": "{}"},
        "actions": [
            {"action_id": "profile_select", "selected_option": {"value": "prod"}, "action_ts": "1"}
        ],
    }
    assert parse_interaction(payload) == ProfileChosen("U_ERIN", "V1", "h1", "{}", "prod")


def test_message_button() -> None:
    value = ButtonValue(EXAMPLE_REQUEST_ID, EXAMPLE_EXTENSION_ID).encode()
    payload = {
        "type": "block_actions",
        "user": USER,
        "trigger_id": "t2",
        "container": {"type": "message", "channel_id": "C1", "message_ts": "1.2"},
        "actions": [{"action_id": "approve", "value": value, "action_ts": "1700000000.5"}],
    }
    assert parse_interaction(payload) == ButtonPressed(
        user_id="U_ERIN",
        action_id=ActionId.APPROVE,
        value=value,
        action_ts="1700000000.5",
        trigger_id="t2",
        channel_id="C1",
    )
    unknown = {**payload, "actions": [{"action_id": "open_device", "action_ts": "1"}]}
    assert isinstance(parse_interaction(unknown), Ignored)
    assert isinstance(parse_interaction({**payload, "actions": []}), Ignored)


def test_suggestion_and_submission() -> None:
    suggestion = {
        "type": "block_suggestion",
        "user": USER,
        "action_id": "device_select",
        "value": "lap",
        "view": {"private_metadata": "m"},
    }
    assert parse_interaction(suggestion) == DeviceSuggestion("U_ERIN", "lap", "m")
    values: dict[str, dict[str, dict[str, Any]]] = {
        "profile": {
            "profile_select": {"type": "static_select", "selected_option": {"value": "prod"}}
        },
        "device": {
            "device_select": {"type": "external_select", "selected_option": {"value": "n1"}}
        },
        "duration": {"duration_select": {"type": "static_select", "selected_option": None}},
        "approver": {
            "approver_radio": {"type": "radio_buttons", "selected_option": {"value": ANY_APPROVER}}
        },
        "reason": {"reason_input": {"type": "plain_text_input", "value": "why"}},
    }
    submission = {
        "type": "view_submission",
        "user": USER,
        "view": {
            "id": "V1",
            "callback_id": "request_access_modal",
            "private_metadata": "m",
            "state": {"values": values},
        },
    }
    parsed = parse_interaction(submission)
    assert parsed == ViewSubmitted("U_ERIN", CallbackId.REQUEST_MODAL, "V1", "m", values)
    assert isinstance(parsed, ViewSubmitted)
    form = RequestFormState.read(parsed.values)
    assert form == RequestFormState("prod", "n1", None, ANY_APPROVER, None, "why")
    assert isinstance(parse_interaction({"type": "view_closed"}), Ignored)


def test_delivery_key_is_stable_across_key_order_and_differs_per_payload() -> None:
    a = {"type": "shortcut", "trigger_id": "t1", "user": USER}
    b = {"user": USER, "trigger_id": "t1", "type": "shortcut"}
    assert delivery_key(a) == delivery_key(b)
    assert delivery_key(a) != delivery_key({**a, "trigger_id": "t2"})


def test_metadata_round_trip_and_refusals() -> None:
    meta = ModalMetadata(EXAMPLE_REQUEST_ID, "prod", EXAMPLE_EXTENSION_ID, "1700000000.1")
    assert ModalMetadata.decode(meta.encode()) == meta
    for raw in (
        "",
        "not json",
        "[]",
        '{"r": "short"}',
        f'{{"r": "{EXAMPLE_REQUEST_ID}", "x": "bad"}}',
    ):
        with pytest.raises(ValueError, match="private_metadata"):
            ModalMetadata.decode(raw)


def test_button_value_carries_an_optional_profile() -> None:
    value = ButtonValue(EXAMPLE_REQUEST_ID, profile_id="prod")
    assert ButtonValue.decode(value.encode()) == value
    assert ButtonValue.decode(ButtonValue(EXAMPLE_REQUEST_ID).encode()).profile_id is None


async def test_recent_deliveries_hand_repeats_the_first_ack() -> None:
    now = [0.0]
    recent = RecentDeliveries(ttl=10, clock=lambda: now[0])
    assert recent.claim("k") is None
    repeat = recent.claim("k")
    assert repeat is not None
    assert not repeat.done()
    recent.settle("k", {"response_action": "errors"})
    assert await repeat == {"response_action": "errors"}
    now[0] = 11.0  # expired: a new delivery
    assert recent.claim("k") is None
    recent.forget("k")
    assert recent.claim("k") is None


async def test_recent_deliveries_forget_the_oldest_at_their_limit() -> None:
    recent = RecentDeliveries(ttl=60, max_size=2, clock=lambda: 0.0)
    assert recent.claim("a") is None
    assert recent.claim("b") is None
    assert recent.claim("c") is None  # full: "a" is forgotten to make room
    assert recent.claim("b") is not None
    assert recent.claim("c") is not None
    assert recent.claim("a") is None  # a repeat of "a" now counts as a first delivery


async def test_ttl_cache_shares_a_load_and_expires() -> None:
    now = [0.0]
    cache: TtlCache[str, int] = TtlCache(5, clock=lambda: now[0])
    loads = 0
    gate = asyncio.Event()

    async def load() -> int:
        nonlocal loads
        loads += 1
        await gate.wait()
        return loads

    first = asyncio.create_task(cache.get("a", load))
    second = asyncio.create_task(cache.get("a", load))
    await asyncio.sleep(0)
    gate.set()
    assert await first == await second == 1
    assert cache.peek("a") == 1
    now[0] = 6.0
    assert cache.peek("a") is None
    assert await cache.get("a", load) == 2

    async def broken() -> int:
        raise RuntimeError("slack down")

    with pytest.raises(RuntimeError):
        await cache.get("b", broken)
    assert await cache.get("b", load) == 3  # failures are not cached

    # A caller that stops waiting does not cancel the lookup for everyone else.
    gate.clear()
    with pytest.raises(TimeoutError):
        await asyncio.wait_for(cache.get("c", load), 0.01)
    patient = asyncio.create_task(cache.get("c", load))
    await asyncio.sleep(0)
    gate.set()
    assert await patient == 4
    assert cache.peek("c") == 4


def test_settings_require_the_credentials_of_their_mode() -> None:
    base = {"slack_bot_token": "xoxb-secret-bot"}
    with pytest.raises(ValidationError, match="SLACK_APP_TOKEN"):
        IntakeSettings.model_validate(base)
    with pytest.raises(ValidationError, match="SLACK_SIGNING_SECRET"):
        IntakeSettings.model_validate({**base, "slack_mode": "http"})
    with pytest.raises(ValidationError, match="SLACK_APP_TOKEN"):
        IntakeSettings.model_validate({**base, "slack_app_token": ""})  # compose's unset
    ok = IntakeSettings.model_validate(
        {**base, "slack_app_token": "xapp-secret-app", "slack_signing_secret": "s3cret"}
    )
    shown = repr(ok) + str(ok.model_dump())
    assert "xoxb-secret-bot" not in shown
    assert "xapp-secret-app" not in shown
    assert "s3cret" not in shown
