"""Every NATS name Accessbot uses, in one place (docs/architecture.md)."""

from __future__ import annotations

from enum import StrEnum

ACCESS_STREAM = "ACCESS"
ACCESS_SUBJECTS = "access.>"
TIMERS_STREAM = "TIMERS"
TIMERS_SUBJECTS = "timers.>"
DEADLETTER_STREAM = "DEADLETTER"
DEADLETTER_SUBJECTS = "deadletter.>"
MAX_DELIVERIES_ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"


class Subject(StrEnum):
    """Subjects of the ACCESS stream. Commands are imperative, events past tense."""

    REQUEST_SUBMITTED = "access.request.submitted"
    DECISION_SUBMITTED = "access.decision.submitted"
    REVOKE_REQUESTED = "access.revoke.requested"
    EXTEND_SUBMITTED = "access.extend.submitted"
    CANCEL_REQUESTED = "access.cancel.requested"
    HOME_REQUESTED = "access.home.requested"
    APPROVAL_REQUESTED = "access.approval.requested"
    APPROVAL_REMINDED = "access.approval.reminded"
    APPROVAL_ESCALATED = "access.approval.escalated"
    APPROVAL_COUNTED = "access.approval.counted"
    REQUEST_APPROVED = "access.request.approved"
    REQUEST_DENIED = "access.request.denied"
    REQUEST_EXPIRED = "access.request.expired"
    REQUEST_CANCELLED = "access.request.cancelled"
    REQUEST_REJECTED = "access.request.rejected"
    DECISION_REFUSED = "access.decision.refused"
    EXTENSION_APPROVED = "access.extension.approved"
    EXTENSION_DENIED = "access.extension.denied"
    GRANT_APPLIED = "access.grant.applied"
    GRANT_FAILED = "access.grant.failed"
    GRANT_EXTENDED = "access.grant.extended"
    GRANT_REVOKED = "access.grant.revoked"
    GRANT_EXPIRED = "access.grant.expired"
    REVOKE_REFUSED = "access.revoke.refused"
    DELIVERY_DEADLETTERED = "access.delivery.deadlettered"


class Bucket(StrEnum):
    """KV buckets; only the owner (docs/architecture.md, State) writes each."""

    REQUESTS = "requests"
    GRANTS = "grants"
    DEVICES = "devices"
    SLACK_MESSAGES = "slack_messages"
    AUTO_APPROVALS = "auto_approvals"
    DEVICE_CLAIMS = "device_claims"


class TimerPurpose(StrEnum):
    """What a message schedule in TIMERS is for; its owner consumes the due subject."""

    # approvals: a pending request's next deadline (a reminder, its escalation, its TTL)
    REQUEST_EXPIRY = "request"
    GRANT_EXPIRY = "grant"  # grants: a grant's expiry time has come


def timer_schedule_subject(purpose: TimerPurpose, request_id: str) -> str:
    """Where a schedule is published; re-publishing here replaces it (ADR-51)."""
    return f"timers.schedule.{purpose.value}.{request_id}"


def timer_due_subject(purpose: TimerPurpose, request_id: str) -> str:
    """Where the server publishes the message when the schedule fires."""
    return f"timers.due.{purpose.value}.{request_id}"


def timer_due_filter(purpose: TimerPurpose) -> str:
    """The filter subject the owning service's durable consumer uses."""
    return f"timers.due.{purpose.value}.*"


def request_id_from_timer_subject(subject: str) -> str:
    """The request id is the last token of a schedule or due subject."""
    return subject.rsplit(".", 1)[-1]


def deadletter_record_subject(durable: str, stream_seq: int) -> str:
    """One dead-lettered message's history (recorded, replayed, recorded again...)."""
    return f"deadletter.record.{durable}.{stream_seq}"


def deadletter_records_of(durable: str) -> str:
    """Every dead letter of one consumer (what its service may record)."""
    return f"deadletter.record.{durable}.*"


def deadletter_replay_subject(durable: str) -> str:
    """Where the admin re-delivers a dead-lettered message to that consumer only."""
    return f"deadletter.replay.{durable}"


def max_deliveries_advisory(stream: str, durable: str) -> str:
    """What JetStream publishes when a message of `durable` ran out of deliveries."""
    return f"{MAX_DELIVERIES_ADVISORY}.{stream}.{durable}"
