"""Events of one request's lifecycle, with fixed ids and times so messages are stable."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from shared.contracts.events import (
    ApprovalCounted,
    ApprovalEscalated,
    ApprovalMode,
    ApprovalReminded,
    ApprovalRequested,
    ApproverGroup,
    DecisionRefused,
    DeviceSnapshot,
    ExtensionApproved,
    ExtensionDenied,
    GrantApplied,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
    Person,
    Problem,
    RefusalReason,
    RequestApproved,
    RequestCancelled,
    RequestDenied,
    RequestExpired,
    RequestRejected,
    RevokeRefused,
    SubmitRequest,
)

GOLDEN_DIR = Path(__file__).parent / "golden"

REQUEST_ID = "01JDQ3F8ZK6W2M9V1T4B7N5C0X"
EXTENSION_ID = "01JDQ4A2B3C4D5E6F7G8H9J0KM"
PROFILE = "prod-db"
ATTRIBUTE = "custom:prodDbAccess"
AUDIT_CHANNEL = "C0AUDIT01"
ADMIN_URL = "https://login.tailscale.com/admin/machines"

DAVE = Person(email="dave@example.com", slack_user_id="U0DAVE", name="Dave Requester")
ALICE = Person(email="alice@example.com", name="Alice Approver")
BOB = Person(email="bob@example.com")
MALLORY = Person(email="mallory@example.com", slack_user_id="U0MALLORY")

DEVICE = DeviceSnapshot(
    node_id="n292kg92CNTRL",
    name="dave-laptop.tail1234.ts.net",
    hostname="dave-laptop",
    owner="dave@example.com",
    os="macOS",
    addresses=["100.101.102.103", "fd7a:115c:a1e0::1"],
)

T0 = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
DURATION = 7200


def at(minutes: float) -> datetime:
    """A moment `minutes` after the request was submitted."""
    return T0 + timedelta(minutes=minutes)


def submitted(request_id: str = REQUEST_ID, profile: str = PROFILE) -> SubmitRequest:
    return SubmitRequest(
        request_id=request_id,
        requester=DAVE,
        profile_id=profile,
        device_id=DEVICE.node_id,
        duration_seconds=DURATION,
        reason="Investigating INC-4211 <prod> & replica lag",
        submitted_at=T0,
    )


def approval_requested(request_id: str = REQUEST_ID, profile: str = PROFILE) -> ApprovalRequested:
    return ApprovalRequested(
        request_id=request_id,
        requester=DAVE,
        profile_id=profile,
        profile_description="Production databases (two approvers)",
        device=DEVICE,
        duration_seconds=DURATION,
        reason="Investigating INC-4211 <prod> & replica lag",
        approvers=[ALICE, BOB],
        approvals_required=2,
        expires_at=at(30),
    )


CAROL = Person(email="carol@example.com", slack_user_id="U0CAROL", name="Carol Fallback")
SECOPS = Person(email="secops@example.com")
ONCALL = "S0ONCALL1"


def asked_by_source() -> ApprovalRequested:
    """secops listed by email; alice and bob asked through the on-call group."""
    members = [ApproverGroup(group_id=ONCALL, members=[ALICE.email, BOB.email])]
    return approval_requested().model_copy(
        update={
            "approvers": [SECOPS, ALICE, BOB],
            "approver_groups": [ONCALL],
            "group_members": members,
        }
    )


def reminded(reminder: int = 1, approvers: list[Person] | None = None) -> ApprovalReminded:
    return ApprovalReminded(
        request_id=REQUEST_ID,
        requester=DAVE,
        profile_id=PROFILE,
        approvers=[ALICE, BOB] if approvers is None else approvers,
        reminder=reminder,
        max_reminders=2,
        waiting_seconds=10 * 60 * reminder,
        expires_at=at(30),
    )


def escalated(
    approvers: list[Person] | None = None, groups: list[str] | None = None
) -> ApprovalEscalated:
    return ApprovalEscalated(
        request_id=REQUEST_ID,
        requester=DAVE,
        profile_id=PROFILE,
        profile_description="Production databases (two approvers)",
        device=DEVICE,
        duration_seconds=DURATION,
        reason="Investigating INC-4211 <prod> & replica lag",
        approvers=[CAROL] if approvers is None else approvers,
        approver_groups=groups or [],
        approvals_required=2,
        waiting_seconds=20 * 60,
        expires_at=at(30),
    )


def counted(
    approvals: list[Person] | None = None, extension_id: str | None = None
) -> ApprovalCounted:
    """An approval counted before the quorum (two) decided; the last of `approvals` is it."""
    given = [ALICE] if approvals is None else approvals
    return ApprovalCounted(
        request_id=REQUEST_ID,
        requester=DAVE,
        profile_id=PROFILE,
        approver=given[-1],
        approvals=given,
        approvals_required=2,
        extension_id=extension_id,
    )


def escalated_by_source() -> ApprovalEscalated:
    """secops listed in escalate_to by email; carol through the fallback group."""
    return escalated(approvers=[SECOPS, CAROL], groups=["S0FALLBAK1"]).model_copy(
        update={"group_members": [ApproverGroup(group_id="S0FALLBAK1", members=[CAROL.email])]}
    )


def approved(
    request_id: str = REQUEST_ID,
    profile: str = PROFILE,
    mode: ApprovalMode = ApprovalMode.QUORUM,
) -> RequestApproved:
    return RequestApproved(
        request_id=request_id,
        requester=DAVE,
        profile_id=profile,
        device=DEVICE,
        attribute=ATTRIBUTE,
        value=True,
        duration_seconds=DURATION,
        reason="Investigating INC-4211 <prod> & replica lag",
        approvers=[] if mode is ApprovalMode.BREAK_GLASS else [ALICE, BOB],
        mode=mode,
        approved_at=at(5),
    )


def applied(request_id: str = REQUEST_ID, profile: str = PROFILE) -> GrantApplied:
    return GrantApplied(
        request_id=request_id,
        requester=DAVE,
        profile_id=profile,
        device_id=DEVICE.node_id,
        attribute=ATTRIBUTE,
        value=True,
        expires_at=at(125),
        applied_at=at(5),
    )


def revoked(request_id: str = REQUEST_ID, profile: str = PROFILE) -> GrantRevoked:
    return GrantRevoked(
        request_id=request_id,
        requester=DAVE,
        profile_id=profile,
        device_id=DEVICE.node_id,
        attribute=ATTRIBUTE,
        revoked_by=ALICE,
        reason="Incident closed",
        revoked_at=at(45),
    )


def grant_expired(request_id: str = REQUEST_ID) -> GrantExpired:
    return GrantExpired(
        request_id=request_id,
        requester=DAVE,
        profile_id=PROFILE,
        device_id=DEVICE.node_id,
        attribute=ATTRIBUTE,
        expired_at=at(125),
    )


def denied(request_id: str = REQUEST_ID) -> RequestDenied:
    return RequestDenied(
        request_id=request_id,
        requester=DAVE,
        profile_id=PROFILE,
        denied_by=BOB,
        reason="Use the read replica",
    )


def request_expired(request_id: str = REQUEST_ID) -> RequestExpired:
    return RequestExpired(
        request_id=request_id, requester=DAVE, profile_id=PROFILE, expired_at=at(30)
    )


def cancelled(request_id: str = REQUEST_ID) -> RequestCancelled:
    return RequestCancelled(
        request_id=request_id, requester=DAVE, profile_id=PROFILE, cancelled_by=DAVE
    )


def rejected(request_id: str = REQUEST_ID) -> RequestRejected:
    return RequestRejected(
        request_id=request_id,
        requester=DAVE,
        profile_id=PROFILE,
        problems=[Problem(field="duration", message="8h is longer than this profile allows (4h).")],
    )


def grant_failed(request_id: str = REQUEST_ID, extension_id: str | None = None) -> GrantFailed:
    return GrantFailed(
        request_id=request_id,
        requester=DAVE,
        profile_id=PROFILE,
        device_id=DEVICE.node_id,
        attribute=ATTRIBUTE,
        error_code="tailscale_rejected",
        message="Tailscale answered 400: invalid attribute value.",
        status_code=400,
        extension_id=extension_id,
    )


def refused(request_id: str = REQUEST_ID) -> DecisionRefused:
    return DecisionRefused(
        request_id=request_id,
        actor=MALLORY,
        action="approve",
        code=RefusalReason.NOT_ELIGIBLE,
        message="You are not an approver for Production databases.",
    )


def revoke_refused(request_id: str = REQUEST_ID) -> RevokeRefused:
    return RevokeRefused(
        request_id=request_id,
        actor=MALLORY,
        code=RefusalReason.NOT_ELIGIBLE,
        message="Only the requester, an approver of this profile or an admin may revoke.",
    )


def extension_requested(request_id: str = REQUEST_ID) -> ApprovalRequested:
    return approval_requested(request_id).model_copy(
        update={
            "extension_id": EXTENSION_ID,
            "additional_seconds": 3600,
            "reason": "Still digging",
            "approvals_required": 1,
            "expires_at": at(60),
        }
    )


def extension_approved(request_id: str = REQUEST_ID) -> ExtensionApproved:
    return ExtensionApproved(
        request_id=request_id,
        requester=DAVE,
        profile_id=PROFILE,
        extension_id=EXTENSION_ID,
        additional_seconds=3600,
        approvers=[ALICE],
    )


def extension_denied(request_id: str = REQUEST_ID) -> ExtensionDenied:
    return ExtensionDenied(
        request_id=request_id,
        requester=DAVE,
        profile_id=PROFILE,
        extension_id=EXTENSION_ID,
        denied_by=BOB,
        reason="Long enough",
    )


def extended(request_id: str = REQUEST_ID) -> GrantExtended:
    return GrantExtended(
        request_id=request_id,
        requester=DAVE,
        profile_id=PROFILE,
        device_id=DEVICE.node_id,
        attribute=ATTRIBUTE,
        extension_id=EXTENSION_ID,
        expires_at=at(185),
        previous_expires_at=at(125),
    )


def assert_golden(name: str, actual: Any) -> None:
    """Compare with golden/<name>.json; `UPDATE_GOLDEN=1` rewrites it (review the diff)."""
    path = GOLDEN_DIR / f"{name}.json"
    rendered = json.dumps(actual, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.write_text(rendered, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1 and review it"
    expected = json.loads(path.read_text(encoding="utf-8"))
    assert json.loads(rendered) == expected, f"{name} differs from {path}"
