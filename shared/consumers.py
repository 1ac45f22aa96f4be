"""Every durable JetStream consumer, by owning service.

The permission matrix grants each service exactly its own consumers, so a
compromised service cannot steal (and ack away) another's messages.
Add a row here when a service needs a new consumer.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.subjects import ACCESS_STREAM, TIMERS_STREAM, Subject, TimerPurpose, timer_due_filter


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """A durable pull consumer: its owner, name, stream and filter subject."""

    service: str
    durable: str
    stream: str
    filter_subject: str


def _access(service: str, name: str, subject: Subject) -> ConsumerSpec:
    return ConsumerSpec(service, f"{service}_{name}", ACCESS_STREAM, subject.value)


def _timer(service: str, purpose: TimerPurpose) -> ConsumerSpec:
    return ConsumerSpec(
        service, f"{service}_timer_{purpose.value}", TIMERS_STREAM, timer_due_filter(purpose)
    )


_NOTIFIER_SUBJECTS = (
    Subject.REQUEST_SUBMITTED,
    Subject.APPROVAL_REQUESTED,
    Subject.REQUEST_APPROVED,
    Subject.REQUEST_DENIED,
    Subject.REQUEST_EXPIRED,
    Subject.REQUEST_CANCELLED,
    Subject.REQUEST_REJECTED,
    Subject.DECISION_REFUSED,
    Subject.EXTENSION_APPROVED,
    Subject.EXTENSION_DENIED,
    Subject.GRANT_APPLIED,
    Subject.GRANT_FAILED,
    Subject.GRANT_EXTENDED,
    Subject.GRANT_REVOKED,
    Subject.GRANT_EXPIRED,
    Subject.REVOKE_REFUSED,
)

CONSUMERS: tuple[ConsumerSpec, ...] = (
    # approvals: commands about requests, and grant outcomes (to know what is active)
    _access("approvals", "submitted", Subject.REQUEST_SUBMITTED),
    _access("approvals", "decision", Subject.DECISION_SUBMITTED),
    _access("approvals", "cancel", Subject.CANCEL_REQUESTED),
    _access("approvals", "extend", Subject.EXTEND_SUBMITTED),
    _access("approvals", "grant_applied", Subject.GRANT_APPLIED),
    _access("approvals", "grant_extended", Subject.GRANT_EXTENDED),
    _access("approvals", "grant_ended", Subject.GRANT_EXPIRED),
    _access("approvals", "grant_revoked", Subject.GRANT_REVOKED),
    _access("approvals", "grant_failed", Subject.GRANT_FAILED),
    _timer("approvals", TimerPurpose.REQUEST_EXPIRY),
    # grants: what to apply, extend, revoke, and its own expiry timers
    _access("grants", "approved", Subject.REQUEST_APPROVED),
    _access("grants", "extension", Subject.EXTENSION_APPROVED),
    _access("grants", "revoke", Subject.REVOKE_REQUESTED),
    _timer("grants", TimerPurpose.GRANT_EXPIRY),
    # notifier: everything people are told about
    *(
        _access("notifier", s.value.removeprefix("access.").replace(".", "_"), s)
        for s in _NOTIFIER_SUBJECTS
    ),
)


def consumer(service: str, durable: str) -> ConsumerSpec:
    """The spec of one consumer by its durable name; KeyError names what is missing."""
    for spec in CONSUMERS:
        if spec.service == service and spec.durable == durable:
            return spec
    raise KeyError(f"no consumer {durable!r} for {service!r} in shared.consumers.CONSUMERS")


def consumers_of(service: str) -> list[ConsumerSpec]:
    """All consumers a service owns."""
    return [c for c in CONSUMERS if c.service == service]
