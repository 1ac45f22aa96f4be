"""Events (and due timers) taken from durable consumers: outcomes, latency, redeliveries.

`subject` is the consumer's filter subject (one per consumer, e.g. `timers.due.grant.*`),
so a timer's request id never becomes a label value.
"""

from __future__ import annotations

from enum import StrEnum

from prometheus_client import Counter, Histogram

from shared.consumers import ConsumerSpec


class Outcome(StrEnum):
    """What became of one delivery."""

    HANDLED = "handled"  # acked
    DEFERRED = "deferred"  # RetryLaterError: redelivered later, not a failure
    FAILED = "failed"  # raised: redelivered with backoff
    REJECTED = "rejected"  # never valid: terminated at once
    DEAD_LETTERED = "dead_lettered"  # the last allowed delivery failed too


EVENTS = Counter(
    "accessbot_events_total",
    "Deliveries taken from a durable consumer, by what became of them.",
    ["consumer", "subject", "outcome"],
)
HANDLER_SECONDS = Histogram(
    "accessbot_event_handler_seconds",
    "Time the handler took for one delivery (any outcome but rejected).",
    ["consumer", "subject"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0),
)
REDELIVERIES = Counter(
    "accessbot_event_redeliveries_total",
    "Deliveries that were not the message's first (after a nak, a timeout or a crash).",
    ["consumer", "subject"],
)
DEAD_LETTERS = Counter(
    "accessbot_dead_letters_total",
    "Messages recorded as dead letters, by who noticed (handler or JetStream advisory).",
    ["consumer", "source"],
)


def received(spec: ConsumerSpec, delivered: int) -> None:
    """Count a delivery that is not the first of its message."""
    if delivered > 1:
        REDELIVERIES.labels(spec.durable, spec.filter_subject).inc()


def finished(spec: ConsumerSpec, outcome: Outcome, seconds: float | None = None) -> None:
    """Count one delivery's outcome (and its handler time, when the handler ran)."""
    EVENTS.labels(spec.durable, spec.filter_subject, outcome.value).inc()
    if seconds is not None:
        HANDLER_SECONDS.labels(spec.durable, spec.filter_subject).observe(seconds)


def dead_lettered(consumer: str, source: str) -> None:
    """Count one dead letter recorded (`source`: handler or advisory)."""
    DEAD_LETTERS.labels(consumer, source).inc()
