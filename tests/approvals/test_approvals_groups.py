"""Slack user groups as approvers: members resolved at submission count, as long as the
profile still lists their group (approvals never calls Slack)."""

from __future__ import annotations

from pathlib import Path

from services.approvals.domain import machine
from services.approvals.domain.record import RequestRecord, RequestStatus
from services.approvals.domain.step import Step
from shared.contracts.events import (
    ApprovalRequested,
    ApproverGroup,
    RefusalReason,
    RequestApproved,
    RequestRejected,
    RuleWording,
)
from shared.profiles import ProfilesConfig, parse_profiles
from tests.approvals.factories import NOW, decision, device, submitted

ONCALL, SRE = "S0ONCALL1", "S0SRETEAM"


def config(
    groups: list[str], *, emails: list[str] | None = None, quorum: int = 1
) -> ProfilesConfig:
    approvers: dict[str, object] = {"slack_groups": groups}
    if emails is not None:
        approvers["emails"] = emails
    return parse_profiles(
        {
            "profiles": [
                {
                    "id": "prod",
                    "description": "Production",
                    "attribute": "custom:prodAccess",
                    "approvers": approvers,
                    "approvals_required": quorum,
                }
            ]
        },
        Path("profiles.yaml"),
    )


def resolved(**members: list[str]) -> list[ApproverGroup]:
    return [ApproverGroup(group_id=g, members=m) for g, m in members.items()]


def opened(cfg: ProfilesConfig, groups: list[ApproverGroup]) -> Step:
    return machine.open_request(submitted(approver_groups=groups), cfg, device(), NOW)


def pending(cfg: ProfilesConfig, groups: list[ApproverGroup]) -> RequestRecord:
    record = opened(cfg, groups).record
    assert record is not None
    assert record.status is RequestStatus.PENDING
    return record


def test_group_members_are_asked_after_the_listed_emails_and_kept_in_the_record() -> None:
    cfg = config([ONCALL], emails=["alice@example.com"])
    step = opened(cfg, resolved(S0ONCALL1=["carol@example.com", "alice@example.com"]))
    [event] = step.events
    assert isinstance(event, ApprovalRequested)
    assert [p.email for p in event.approvers] == ["alice@example.com", "carol@example.com"]
    assert event.approver_groups == [ONCALL]
    # who came through which group, so the messages can attribute them
    assert [(g.group_id, g.members) for g in event.group_members] == [
        (ONCALL, ["carol@example.com", "alice@example.com"])
    ]
    assert step.record is not None
    assert step.record.rules is not None
    assert step.record.rules.groups == {ONCALL: ["carol@example.com", "alice@example.com"]}


def test_a_group_the_profile_does_not_list_is_ignored() -> None:
    cfg = config([ONCALL])
    step = opened(cfg, resolved(S0ONCALL1=["carol@example.com"], S0SRETEAM=["mallory@example.com"]))
    [event] = step.events
    assert isinstance(event, ApprovalRequested)
    assert [p.email for p in event.approvers] == ["carol@example.com"]


def test_the_requester_in_a_group_is_not_asked_without_self_approval() -> None:
    cfg = config([ONCALL])
    step = opened(cfg, resolved(S0ONCALL1=["dave@example.com", "carol@example.com"]))
    [event] = step.events
    assert isinstance(event, ApprovalRequested)
    assert [p.email for p in event.approvers] == ["carol@example.com"]


def test_an_empty_or_disabled_group_rejects_the_request_naming_the_shortfall() -> None:
    step = opened(config([ONCALL]), resolved(S0ONCALL1=[]))
    [event] = step.events
    assert isinstance(event, RequestRejected)
    assert [p.facts.wording for p in event.problems if p.facts] == [RuleWording.TOO_FEW_APPROVERS]


def test_a_quorum_larger_than_the_group_is_rejected_when_opened() -> None:
    step = opened(
        config([ONCALL], quorum=3), resolved(S0ONCALL1=["a@example.com", "b@example.com"])
    )
    assert isinstance(step.events[0], RequestRejected)


def test_a_group_member_approves() -> None:
    cfg = config([ONCALL])
    record = pending(cfg, resolved(S0ONCALL1=["carol@example.com"]))
    step = machine.decide(record, decision(record.request_id, "carol@example.com"), cfg, NOW)
    assert isinstance(step.events[0], RequestApproved)


def test_someone_outside_the_resolved_group_is_not_eligible() -> None:
    cfg = config([ONCALL])
    record = pending(cfg, resolved(S0ONCALL1=["carol@example.com"]))
    step = machine.decide(record, decision(record.request_id, "erin@example.com"), cfg, NOW)
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.NOT_ELIGIBLE


def test_a_group_removed_from_the_profile_takes_its_members_right_away() -> None:
    record = pending(config([ONCALL, SRE]), resolved(S0ONCALL1=["carol@example.com"]))
    now = config([SRE])  # profiles.yaml changed and the services restarted
    step = machine.decide(record, decision(record.request_id, "carol@example.com"), now, NOW)
    assert step.refusal is not None
    assert step.refusal.code is RefusalReason.NOT_ELIGIBLE
