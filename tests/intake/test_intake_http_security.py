"""HTTP mode trusts only what Slack signed, and validates even signed submissions."""

from __future__ import annotations

import io
import json
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest

from emulators.slack import DeliveryError
from services.intake.domain.payload_bounds import MAX_BODY_BYTES, MAX_JSON_DEPTH
from shared.contracts.subjects import Subject
from shared.ids import new_id
from shared.slack_ids import ActionId
from tests.intake.conftest import (
    ALICE,
    APPROVALS,
    BOB,
    Intake,
    form_body,
    published,
    signed_post_headers,
    wait_published,
)

pytestmark = pytest.mark.parametrize("mode", ["http"])


@pytest.mark.parametrize("forgery", ["bad_signature", "stale_timestamp"])
async def test_unsigned_or_stale_deliveries_get_401_and_change_nothing(
    intake: Intake, forgery: str
) -> None:
    driver = intake.emu.driver
    ts = await intake.post_buttons(new_id())
    driver.forge_next_http(forgery)
    with pytest.raises(DeliveryError) as refused:
        await driver.press_button(BOB.id, APPROVALS.id, ts, ActionId.APPROVE.value)
    assert refused.value.record.http_status == 401
    driver.forge_next_http(forgery)
    with pytest.raises(DeliveryError):
        await driver.press_shortcut(ALICE.id, "request_access")
    # The genuine press that follows is the only thing that happens.
    await driver.press_button(BOB.id, APPROVALS.id, ts, ActionId.APPROVE.value)
    await wait_published(intake.js, Subject.DECISION_SUBMITTED.value)
    assert len(await published(intake.js)) == 1
    assert intake.emu.calls("views.open") == []
    assert [c.params.get("user") for c in intake.emu.calls("users.info")] == [BOB.id]


async def test_a_request_without_signature_headers_is_refused(intake: Intake) -> None:
    assert intake.http_url is not None
    body = form_body({"type": "shortcut", "callback_id": "request_access", "user": {"id": "U1"}})
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            intake.http_url,
            data=body,
            headers={"Content-Type": "application/x-www-form-urlencoded"},
        ) as response,
    ):
        assert response.status == 401
    assert intake.emu.calls("views.open") == []


def tampered_submission(view: dict[str, Any], values: dict[str, Any]) -> dict[str, Any]:
    """A view_submission as a modified client might send it (signed: it came via Slack)."""
    return {
        "type": "view_submission",
        "team": {"id": "T0EMULATOR"},
        "user": {"id": ALICE.id, "name": ALICE.name, "team_id": "T0EMULATOR"},
        "trigger_id": "1.2.tampered",
        "view": {**view, "state": {"values": values}},
    }


def state(profile: str, reason: str) -> dict[str, Any]:
    def chosen(kind: str, value: str) -> dict[str, Any]:
        return {"type": kind, "selected_option": {"value": value}}

    return {
        "profile": {"profile_select": chosen("static_select", profile)},
        "device": {"device_select": chosen("external_select", "nAliceLaptopCNTRL")},
        "duration": {"duration_select": chosen("static_select", "3600")},
        "approver": {"approver_radio": chosen("radio_buttons", "bob@example.com")},
        "reason": {"reason_input": {"type": "plain_text_input", "value": reason}},
    }


@pytest.mark.parametrize(
    ("profile", "reason", "field", "words"),
    [
        ("no-such-profile", "why", "profile", "still loading"),
        ("prod", "x" * 3001, "reason", "under 3000 characters"),
    ],
)
async def test_tampered_submissions_are_validated_too(
    intake: Intake, profile: str, reason: str, field: str, words: str
) -> None:
    assert intake.http_url is not None
    view = await intake.open_request_form(ALICE, "prod")
    body = form_body(tampered_submission(view, state(profile, reason)))
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            intake.http_url, data=body, headers=signed_post_headers(intake.emu, body)
        ) as response,
    ):
        assert response.status == 200
        ack = await response.json()
    assert ack["response_action"] == "errors"
    assert list(ack["errors"]) == [field]
    assert words in ack["errors"][field]
    assert await published(intake.js) == []


def nested(depth: int) -> dict[str, Any]:
    """A shortcut payload whose `callback_id` hides `depth` levels of nested lists."""
    return {
        "type": "shortcut",
        "callback_id": "request_access",
        "user": {"id": ALICE.id},
        "extra": json.loads("[" * depth + "]" * depth),
    }


def nested_text(depth: int) -> str:
    """The same, as raw JSON text (json.dumps itself would refuse to go this deep)."""
    head = json.dumps({**nested(1), "extra": None})
    return head[: -len("null}")] + "[" * depth + "]" * depth + "}"


async def signed_post(intake: Intake, body: str) -> tuple[int, Any]:
    assert intake.http_url is not None
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            intake.http_url,
            data=io.BytesIO(body.encode()),  # a stream: aiohttp warns about large raw bytes
            headers=signed_post_headers(intake.emu, body),
        ) as response,
    ):
        text = await response.text()
        return response.status, json.loads(text) if text else None


async def test_a_signed_deeply_nested_payload_gets_400_not_a_traceback(
    intake: Intake, caplog: pytest.LogCaptureFixture
) -> None:
    body = urlencode({"payload": nested_text(100_000)})
    status, answer = await signed_post(intake, body)
    assert (status, answer) == (400, {"ok": False, "error": "invalid_payload"})
    assert "RecursionError" not in caplog.text
    assert intake.emu.calls("views.open") == []


async def test_nesting_at_the_depth_limit_is_still_parsed(intake: Intake) -> None:
    # The payload object itself is one level; its list nests the rest.
    deepest = MAX_JSON_DEPTH - 1
    status, _ = await signed_post(intake, form_body(nested(deepest)))
    assert status == 200
    await intake.emu.wait_for_call("views.open")
    status, answer = await signed_post(intake, form_body(nested(deepest + 1)))
    assert (status, answer) == (400, {"ok": False, "error": "invalid_payload"})
    assert len(intake.emu.calls("views.open")) == 1


async def test_an_oversized_body_gets_400_without_being_read_whole(intake: Intake) -> None:
    padding = "x" * MAX_BODY_BYTES
    status, answer = await signed_post(intake, urlencode({"payload": "{}", "pad": padding}))
    assert (status, answer) == (400, {"ok": False, "error": "invalid_payload"})


async def test_the_events_api_handshake_is_answered_and_a_forged_home_opening_refused(
    intake: Intake,
) -> None:
    """Slack checks the Request URL with `url_verification` (signed, JSON) before it sends
    events such as `app_home_opened`; a forged opening publishes nothing."""
    assert intake.http_url is not None
    body = json.dumps(
        {"token": "x", "challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gm", "type": "url_verification"}
    )
    headers = {"Content-Type": "application/json", **intake.emu.signing.headers(body)}
    async with (
        aiohttp.ClientSession() as session,
        session.post(intake.http_url, data=body, headers=headers) as response,
    ):
        assert response.status == 200
        assert await response.json() == {"challenge": "3eZbrw1aBm2rZgRNFdxV2595E9CY3gm"}
    intake.emu.driver.forge_next_http("bad_signature")
    with pytest.raises(DeliveryError) as refused:
        await intake.emu.driver.open_home(BOB.id)
    assert refused.value.record.http_status == 401
    assert await published(intake.js, Subject.HOME_REQUESTED.value) == []
