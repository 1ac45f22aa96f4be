"""The notifier's durable consumers: each decodes its subject's event and delegates."""

from __future__ import annotations

from dataclasses import dataclass

from faststream.nats import NatsBroker

from services.notifier.handlers import DeadLetterNotices, Notifier
from services.notifier.handlers.home import HomePublisher
from shared.consumers import consumers_of
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import MESSAGE_TYPES, DeliveryDeadLettered, Message, PublishHome
from shared.contracts.subjects import Subject
from shared.runtime import Wiring
from shared.subscribing import subscribe_events

SERVICE = "notifier"
# Messages handled at once per consumer: a post waiting out Slack's per-channel rate limit
# must not hold up DMs about other requests (Notifier serialises per request itself).
WORKERS = 8


@dataclass(frozen=True, slots=True)
class Handlers:
    """The notifier's handlers, built once NATS is connected (bootstrap's `Wiring`)."""

    notifier: Notifier
    deadletters: DeadLetterNotices
    home: HomePublisher


def subscribe(broker: NatsBroker, wiring: Wiring[Handlers]) -> None:
    """One subscriber per consumer listed for the notifier in shared.consumers."""

    async def notice(envelope: Envelope[DeliveryDeadLettered]) -> None:
        await wiring.handlers.deadletters.handle(envelope)

    async def notify(envelope: Envelope[Message]) -> None:
        await wiring.handlers.notifier.handle(envelope)

    async def home(envelope: Envelope[PublishHome]) -> None:
        await wiring.handlers.home.handle(envelope)

    for spec in consumers_of(SERVICE):
        model = MESSAGE_TYPES[Subject(spec.filter_subject)]
        if model is DeliveryDeadLettered:
            subscribe_events(broker, spec, DeliveryDeadLettered, notice)
            continue
        if model is PublishHome:
            subscribe_events(broker, spec, PublishHome, home, max_workers=WORKERS)
            continue
        subscribe_events(broker, spec, model, notify, max_workers=WORKERS)
