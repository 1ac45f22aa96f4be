"""Approvals puts facts in its rejections and rule denials; the notifier words them."""

from __future__ import annotations

from services.approvals.domain import machine
from shared.contracts.events import RequestRejected, RuleFacts, RuleWording
from tests.approvals.factories import NOW, device, profiles, submitted


def test_a_rejection_carries_facts_and_the_english_for_siem_readers() -> None:
    step = machine.open_request(submitted(duration_seconds=9 * 3600), profiles(), device(), NOW)
    [event] = step.events
    assert isinstance(event, RequestRejected)
    [problem] = event.problems
    assert problem.facts == RuleFacts(
        wording=RuleWording.TOO_LONG,
        subject="Production",
        seconds=9 * 3600,
        limit_seconds=8 * 3600,
    )
    assert problem.message == "9h is longer than Production allows (8h)."


def test_an_unknown_profile_names_what_was_submitted() -> None:
    step = machine.open_request(submitted(profile_id="nope"), profiles(), device(), NOW)
    [event] = step.events
    assert isinstance(event, RequestRejected)
    assert [p.facts for p in event.problems] == [
        RuleFacts(wording=RuleWording.UNKNOWN_PROFILE, value="nope")
    ]
