"""When Slack stalls, the form and the approver search still answer within intake's
pre-ack budget: bare emails from profiles.yaml (handlers with in-memory fakes)."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from services.intake.domain.approvers import approver_value
from services.intake.domain.device_index import DeviceIndex
from services.intake.domain.interactions import ApproverSuggestion, ProfileChosen
from services.intake.domain.metadata import ModalMetadata
from services.intake.handlers import handling
from services.intake.handlers.handling import Acker, Deps, Handle, Trace
from services.intake.handlers.request_flow import RequestFlow
from shared.contracts.events import Person
from shared.profiles import parse_profiles
from tests.intake.fakes import NoPublisher, RecordingViews, StalledGroups, StalledSlackPeople

EMAILS = [f"approver{i}@example.com" for i in range(12)]
PROFILES = parse_profiles(
    {
        "profiles": [
            {
                "id": "wide",
                "description": "Shared tooling",
                "attribute": "custom:wideAccess",
                "approvers": {"emails": EMAILS},
            },
            {
                "id": "oncall",
                "description": "On-call approves",
                "attribute": "custom:oncallAccess",
                "approvers": {"emails": EMAILS[:2], "slack_groups": ["S0ONCALL1"]},
            },
        ]
    },
    Path("inline"),
)
REQUESTER = Person(email="erin@example.com", slack_user_id="U0ERIN")
NOW = datetime(2026, 12, 5, 13, 5, tzinfo=UTC)


@pytest.fixture(autouse=True)
def short_budget(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(handling, "PRE_ACK_BUDGET_SECONDS", 0.2)


def _flow() -> tuple[RequestFlow, RecordingViews, Deps]:
    views = RecordingViews()
    deps = Deps(
        profiles=PROFILES,
        devices=DeviceIndex(),
        people=StalledSlackPeople(REQUESTER),
        views=views,
        publisher=NoPublisher(),
        groups=StalledGroups(),
        clock=lambda: NOW,
    )
    return RequestFlow(deps), views, deps


def _handle(deps: Deps, acks: list[Any]) -> Handle:
    async def ack(body: Any) -> None:
        acks.append(body)

    return Handle(deps, Trace(kind="test"), Acker(ack, time.perf_counter(), lambda _: None))


def _metadata(profile_id: str) -> str:
    return ModalMetadata(request_id="01JDQ3F8ZK6W2M9V1T4B7N5C0X", profile_id=profile_id).encode()


async def test_a_stalled_group_lookup_still_updates_the_form_in_time() -> None:
    flow, views, deps = _flow()
    started = time.monotonic()
    await flow.profile_chosen(
        ProfileChosen(
            user_id="U0ERIN",
            view_id="V1",
            view_hash="h1",
            private_metadata=_metadata(""),
            profile_id="oncall",
        ),
        _handle(deps, []),
    )
    assert time.monotonic() - started < 2.0
    [view] = views.updated
    shown = next(b for b in view["blocks"] if b.get("block_id") == "approvers_shown")
    assert shown["elements"][0]["text"] == (
        "*Who can approve:* approver0@example.com and approver1@example.com\n"
        "The members of <!subteam^S0ONCALL1> could not be read from Slack just now."
    )


async def test_a_stalled_lookup_answers_the_search_with_bare_emails_in_time() -> None:
    flow, _, deps = _flow()
    acks: list[Any] = []
    started = time.monotonic()
    await flow.suggest_approvers(
        ApproverSuggestion(user_id="U0ERIN", query="approver1", private_metadata=_metadata("wide")),
        _handle(deps, acks),
    )
    assert time.monotonic() - started < 2.0
    [answer] = acks
    assert [o["value"] for o in answer["options"]] == [
        approver_value(e)
        for e in ("approver1@example.com", "approver10@example.com", "approver11@example.com")
    ]
