"""Every durable JetStream consumer, by owning service.

The permission matrix grants each service exactly its own consumers, so a
compromised service cannot steal (and ack away) another's messages.
Add a row here when a service needs a new consumer.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.contracts.subjects import (
    ACCESS_STREAM,
    DEADLETTER_STREAM,
    MAX_DELIVERIES_ADVISORY,
    TIMERS_STREAM,
    Subject,
    TimerPurpose,
    deadletter_replay_subject,
    timer_due_filter,
)

# Deliveries of one message before it is dead-lettered. With the subscriber's backoff
# (0.5 s doubling, capped at 60 s) the last attempt comes about 14 minutes after the
# first: a Slack or Tailscale outage that long is waited out, a poison message is not
# retried for ever.
MAX_DELIVER = 20


@dataclass(frozen=True, slots=True)
class ConsumerSpec:
    """A durable pull consumer: its owner, name, stream and filter subject."""

    service: str
    durable: str
    stream: str
    filter_subject: str
    max_deliver: int = MAX_DELIVER


def _access(service: str, name: str, subject: Subject) -> ConsumerSpec:
    return ConsumerSpec(service, f"{service}_{name}", ACCESS_STREAM, subject.value)


def _timer(service: str, purpose: TimerPurpose) -> ConsumerSpec:
    return ConsumerSpec(
        service, f"{service}_timer_{purpose.value}", TIMERS_STREAM, timer_due_filter(purpose)
    )


_NOTIFIER_SUBJECTS = (
    Subject.REQUEST_SUBMITTED,
    Subject.APPROVAL_REQUESTED,
    Subject.APPROVAL_REMINDED,
    Subject.APPROVAL_ESCALATED,
    Subject.APPROVAL_COUNTED,
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
    _access("notifier", "deadlettered", Subject.DELIVERY_DEADLETTERED),
    # notifier: someone opened the Home tab (not about a request: its own handler)
    _access("notifier", "home_requested", Subject.HOME_REQUESTED),
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


def replay_consumer(spec: ConsumerSpec) -> ConsumerSpec:
    """The consumer through which the admin re-delivers `spec`'s dead letters to it alone."""
    return ConsumerSpec(
        spec.service,
        f"{spec.durable}_replay",
        DEADLETTER_STREAM,
        deadletter_replay_subject(spec.durable),
        spec.max_deliver,
    )


def advisory_consumer(service: str) -> ConsumerSpec:
    """The service's consumer of JetStream's max-deliveries advisories (kept in DEADLETTER).

    Its filter is all advisories; the subscriber records those about the service's own
    consumers and skips the rest (one filter per consumer would be a list FastStream and
    the permission subjects handle less plainly).
    """
    return ConsumerSpec(
        service,
        f"{service}_deadletter_advisories",
        DEADLETTER_STREAM,
        f"{MAX_DELIVERIES_ADVISORY}.>",
    )


def deadletter_sources(service: str) -> list[ConsumerSpec]:
    """Every consumer whose exhausted messages `service` records: its own and their replays."""
    own = consumers_of(service)
    return [*own, *(replay_consumer(spec) for spec in own)]
