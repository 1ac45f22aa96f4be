"""One realistic example per event type: used by the AsyncAPI document and by tests."""

from __future__ import annotations

from datetime import UTC, datetime

from shared.contracts.events import (
    EXAMPLE_EXTENSION_ID,
    EXAMPLE_REQUEST_ID,
    ApprovalCounted,
    ApprovalEscalated,
    ApprovalMode,
    ApprovalReminded,
    ApprovalRequested,
    CancelRequest,
    DecideRequest,
    Decision,
    DecisionRefused,
    DeliveryDeadLettered,
    DeviceSnapshot,
    ExtendGrant,
    ExtensionApproved,
    ExtensionDenied,
    GrantApplied,
    GrantExpired,
    GrantExtended,
    GrantFailed,
    GrantRevoked,
    Message,
    Person,
    Problem,
    PublishHome,
    RefusalReason,
    RequestApproved,
    RequestCancelled,
    RequestDenied,
    RequestExpired,
    RequestRejected,
    RevokeGrant,
    RevokeRefused,
    SubmitRequest,
)
from shared.contracts.subjects import Subject

T0 = datetime(2026, 11, 30, 9, 15, tzinfo=UTC)
T_EXPIRES = datetime(2026, 11, 30, 13, 15, tzinfo=UTC)
ALICE = Person(email="alice@example.com", slack_user_id="U024BE7LH", name="Alice Example")
BOB = Person(email="bob@example.com", slack_user_id="U0G9QF9C6", name="Bob Example")
MALLORY = Person(email="mallory@example.com", slack_user_id="U0MALLORY", name="Mallory")
DEVICE = DeviceSnapshot(
    node_id="n292kg92CNTRL",
    legacy_id="92960230385",
    name="alice-laptop.tail1234.ts.net",
    hostname="alice-laptop",
    owner="alice@example.com",
    tags=[],
    os="macOS",
    addresses=["100.101.102.103", "fd7a:115c:a1e0::1"],
    last_seen=None,
    connected_to_control=True,
    authorized=True,
)
_R = EXAMPLE_REQUEST_ID
_X = EXAMPLE_EXTENSION_ID
_COMMON: dict[str, object] = {"request_id": _R, "requester": ALICE, "profile_id": "prod"}
_GRANT: dict[str, object] = {
    **_COMMON,
    "device_id": DEVICE.node_id,
    "attribute": "custom:prodAccess",
}
REASON = "Investigating INC-4211"

EXAMPLES: dict[Subject, Message] = {
    e.SUBJECT: e
    for e in (
        SubmitRequest.model_validate(
            {
                **_COMMON,
                "device_id": DEVICE.node_id,
                "duration_seconds": 4 * 3600,
                "approver_email": "bob@example.com",
                "reason": REASON,
                "submitted_at": T0,
            }
        ),
        DecideRequest(request_id=_R, decider=BOB, decision=Decision.APPROVE),
        RevokeGrant(request_id=_R, actor=ALICE, reason="Done"),
        ExtendGrant(
            request_id=_R, extension_id=_X, actor=ALICE, additional_seconds=3600, reason=REASON
        ),
        CancelRequest(request_id=_R, actor=ALICE),
        PublishHome(request_id=_R, person=ALICE),
        ApprovalRequested.model_validate(
            {
                **_COMMON,
                "profile_description": "Production",
                "device": DEVICE,
                "duration_seconds": 4 * 3600,
                "reason": REASON,
                "approvers": [BOB],
                "approvals_required": 1,
                "expires_at": datetime(2026, 11, 30, 10, 15, tzinfo=UTC),
            }
        ),
        ApprovalReminded.model_validate(
            {
                **_COMMON,
                "approvers": [BOB],
                "reminder": 1,
                "max_reminders": 2,
                "waiting_seconds": 15 * 60,
                "expires_at": datetime(2026, 11, 30, 10, 15, tzinfo=UTC),
            }
        ),
        ApprovalEscalated.model_validate(
            {
                **_COMMON,
                "profile_description": "Production",
                "device": DEVICE,
                "duration_seconds": 4 * 3600,
                "reason": REASON,
                "approvers": [Person(email="carol@example.com")],
                "approvals_required": 1,
                "waiting_seconds": 30 * 60,
                "expires_at": datetime(2026, 11, 30, 10, 15, tzinfo=UTC),
            }
        ),
        ApprovalCounted.model_validate(
            {**_COMMON, "approver": BOB, "approvals": [BOB], "approvals_required": 2}
        ),
        RequestApproved.model_validate(
            {
                **_COMMON,
                "device": DEVICE,
                "attribute": "custom:prodAccess",
                "value": True,
                "duration_seconds": 4 * 3600,
                "reason": REASON,
                "approvers": [BOB],
                "mode": ApprovalMode.QUORUM,
                "approved_at": T0,
            }
        ),
        RequestDenied.model_validate({**_COMMON, "denied_by": BOB, "reason": "Use staging"}),
        RequestExpired.model_validate({**_COMMON, "expired_at": T0}),
        RequestCancelled.model_validate({**_COMMON, "cancelled_by": ALICE}),
        RequestRejected(
            request_id=_R,
            requester=ALICE,
            profile_id="prod",
            problems=[Problem(field="duration", message="8h is longer than 4h.")],
        ),
        DecisionRefused(
            request_id=_R,
            actor=MALLORY,
            action="approve",
            code=RefusalReason.NOT_ELIGIBLE,
            message="You are not an approver for Production.",
        ),
        ExtensionApproved.model_validate(
            {**_COMMON, "extension_id": _X, "additional_seconds": 3600, "approvers": [BOB]}
        ),
        ExtensionDenied.model_validate(
            {**_COMMON, "extension_id": _X, "denied_by": BOB, "reason": "No"}
        ),
        GrantApplied.model_validate(
            {**_GRANT, "value": True, "expires_at": T_EXPIRES, "applied_at": T0}
        ),
        GrantFailed.model_validate(
            {
                **_GRANT,
                "error_code": "tailscale_rejected",
                "message": "Tailscale answered 400: invalid attribute value.",
                "status_code": 400,
                "retryable": False,
            }
        ),
        GrantExtended.model_validate(
            {
                **_GRANT,
                "extension_id": _X,
                "expires_at": datetime(2026, 11, 30, 14, 15, tzinfo=UTC),
                "previous_expires_at": T_EXPIRES,
            }
        ),
        GrantRevoked.model_validate(
            {**_GRANT, "revoked_by": ALICE, "reason": "Done", "revoked_at": T0}
        ),
        GrantExpired.model_validate(
            {
                **_GRANT,
                "expired_at": T_EXPIRES,
                "continues_under": "01JDQ5B7C8D9E0F1G2H3J4K5MN",
                "continues_until": datetime(2026, 11, 30, 12, 15, tzinfo=UTC),
            }
        ),
        RevokeRefused(
            request_id=_R,
            actor=MALLORY,
            code=RefusalReason.NOT_ELIGIBLE,
            message="Only the requester, an approver of Production or an admin may revoke.",
        ),
        DeliveryDeadLettered(
            request_id=_R,
            service="notifier",
            consumer="notifier_request_submitted",
            subject="access.request.submitted",
            event_id="01JDQ3F9A1B2C3D4E5F6G7H8J9",
            stream="ACCESS",
            stream_sequence=42,
            deliveries=20,
            last_error="SlackObjectFormationError: text must be at most 3000 characters",
            profile_id="prod",
        ),
    )
}
