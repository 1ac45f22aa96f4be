"""The notifier's durable consumers: each decodes its subject's event and delegates."""

from __future__ import annotations

from faststream.nats import NatsBroker

from services.notifier.deadletter_notices import DeadLetterNotices
from services.notifier.notifier import Notifier
from shared.consumers import consumers_of
from shared.contracts.events import MESSAGE_TYPES, DeliveryDeadLettered
from shared.contracts.subjects import Subject
from shared.subscribing import subscribe_events

SERVICE = "notifier"
# Messages handled at once per consumer: a post waiting out Slack's per-channel rate limit
# must not hold up DMs about other requests (Notifier serialises per request itself).
WORKERS = 8


def subscribe(broker: NatsBroker, notifier: Notifier, deadletters: DeadLetterNotices) -> None:
    """One subscriber per consumer listed for the notifier in shared.consumers."""
    for spec in consumers_of(SERVICE):
        model = MESSAGE_TYPES[Subject(spec.filter_subject)]
        if model is DeliveryDeadLettered:
            subscribe_events(broker, spec, DeliveryDeadLettered, deadletters.handle)
            continue
        subscribe_events(broker, spec, model, notifier.handle, max_workers=WORKERS)
