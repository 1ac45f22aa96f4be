"""One device, one profile, one grant (issue 15, item 6), over Socket Mode and HTTP: the form
reads the pair's claim from KV `device_claims` (written here as approvals would) and
answers a second request with the Extend form, or one line, instead of submitting it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from nats.js import JetStreamContext

from shared.contracts.events import ExtendGrant, Person, SubmitRequest
from shared.contracts.subjects import Bucket, Subject
from shared.device_claims import ClaimState, DeviceClaim
from shared.ids import is_valid_id, new_id
from shared.slack_ids import ActionId, BlockId
from tests.intake.conftest import ERIN, Intake, block, metadata, published, wait_published

LAPTOP = "nErinLaptopCNTRL"


async def put_claim(js: JetStreamContext, claim: DeviceClaim) -> None:
    kv = await js.key_value(Bucket.DEVICE_CLAIMS.value)
    await kv.put(claim.key, claim.model_dump_json().encode())


def held(
    state: ClaimState, *, requester: str = "erin@example.com", hours: float = 2
) -> DeviceClaim:
    return DeviceClaim(
        request_id=new_id(),
        profile_id="prod",
        device_id=LAPTOP,
        requester=requester,
        state=state,
        until=datetime.now(UTC) + timedelta(hours=hours),
    )


async def fill_in_prod(intake: Intake) -> None:
    await intake.open_request_form(ERIN, "prod")
    await intake.emu.driver.type_in_external_select(ERIN.id, ActionId.DEVICE_SELECT.value, "laptop")


async def submit(intake: Intake) -> dict[str, object] | None:
    return await intake.emu.driver.submit_view(
        ERIN.id,
        values={
            ActionId.DEVICE_SELECT.value: LAPTOP,
            ActionId.DURATION_SELECT.value: "3600",
            ActionId.REASON_INPUT.value: "Investigating INC-4211",
        },
    )


async def test_an_active_grant_of_ones_own_is_offered_for_extension(intake: Intake) -> None:
    active = held(ClaimState.ACTIVE)
    await put_claim(intake.js, active)
    await fill_in_prod(intake)
    ack = await submit(intake)
    assert ack is not None
    assert ack["response_action"] == "update"  # the form becomes the Extend form

    view = intake.emu.driver.current_view(ERIN.id)
    assert view is not None
    assert view["callback_id"] == "extend_modal"
    meta = metadata(view)
    assert meta.request_id == active.request_id
    assert meta.extension_id is not None
    assert is_valid_id(meta.extension_id)
    offer = block(view, BlockId.EXTEND_OFFER)["elements"][0]["text"]
    assert "*Production* is already active on *erin-laptop* until <!date^" in offer
    assert active.request_id in offer
    reason = block(view, BlockId.EXTEND_REASON)["element"]
    assert reason["initial_value"] == "Investigating INC-4211"  # what was typed is kept
    assert await published(intake.js) == []  # no second request

    assert (
        await intake.emu.driver.submit_view(
            ERIN.id, values={ActionId.EXTEND_DURATION_SELECT.value: "3600"}
        )
        is None
    )
    [extended] = await wait_published(intake.js, Subject.EXTEND_SUBMITTED.value)
    assert extended.event == ExtendGrant(
        request_id=active.request_id,
        extension_id=meta.extension_id,
        actor=Person(email="erin@example.com", slack_user_id=ERIN.id, name="Erin Requester"),
        additional_seconds=3600,
        reason="Investigating INC-4211",
    )
    assert await published(intake.js, Subject.REQUEST_SUBMITTED.value) == []


async def test_a_pending_or_someone_elses_grant_is_one_line_under_the_device(
    intake: Intake,
) -> None:
    pending = held(ClaimState.PENDING)
    await put_claim(intake.js, pending)
    await fill_in_prod(intake)
    ack = await submit(intake)
    assert ack == {
        "response_action": "errors",
        "errors": {
            "device": f"You already asked for Production on this device: request "
            f"{pending.request_id} is waiting for approval. One device, one profile, one "
            "grant: wait for it, or cancel it first."
        },
    }
    others = held(ClaimState.ACTIVE, requester="alice@example.com")
    await put_claim(intake.js, others)
    ack = await submit(intake)
    assert ack is not None
    assert "under someone else's request" in str(ack["errors"])
    assert await published(intake.js) == []


async def test_an_ended_or_lapsed_claim_lets_the_request_through(intake: Intake) -> None:
    await put_claim(intake.js, held(ClaimState.ACTIVE, hours=-1))  # its end has passed
    await fill_in_prod(intake)
    assert await submit(intake) is None
    [envelope] = await wait_published(intake.js, Subject.REQUEST_SUBMITTED.value)
    assert isinstance(envelope.event, SubmitRequest)
