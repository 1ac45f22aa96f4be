"""CPU per event through a service's subscriber, with a handler that does nothing.

Every service takes its events through `shared.subscribing.subscribe_events`: FastStream's
pull loop (`shared.pull_timeouts`), the CloudEvent decoder, and `DeliveryMiddleware`
(bindings, trace, keyed lock, in-progress heartbeat, ack, metrics, the canonical log
line). This process subscribes as the notifier does (its user, one of its consumers,
eight workers, logging as the service configures it, to /dev/null) on a real
nats-server, and counts its own CPU time (and the NATS messages its connection received)
per event from the first event handled to the last, in two shapes:

- **trickle**: a child process publishes `--rate` events a second, so a fetch finds one
  message, as each of the notifier's consumers does in `bench.throughput` (about 35
  events a second per subject there);
- **backlog**: the events are all stored before the subscriber starts, so every fetch
  returns a full batch (16).

And, as the floor under both, the trickle through nats-py alone: a pull subscription's
`fetch` (or, for comparison, a push consumer's callback), the same CloudEvent decode,
the ack. The publisher is another process and not counted; an idle subscriber costs
about 0.5 ms of CPU a second, which is in the figures.

    python -m bench.subscriber_cpu [--runs N] [--quick] [--events N] [--rate R]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

from nats.aio.msg import Msg
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy

from accessbot.natsserver import EmbeddedNats, free_port
from bench.in_process import run_as_service
from bench.report import Report, RunFigures, parse_args
from shared import event_loop
from shared.connection import connect, make_broker
from shared.consumers import consumer
from shared.contracts.cloudevents import Envelope, decode_as
from shared.contracts.events import GrantExpired, Message
from shared.contracts.examples import EXAMPLES
from shared.contracts.subjects import ACCESS_STREAM, Subject
from shared.ids import new_id
from shared.permissions import ADMIN_USER
from shared.provisioning import provision
from shared.publishing import EventPublisher
from shared.settings import ServiceSettings
from shared.subscribing import subscribe_events

NAME = "subscriber_cpu"
TITLE = "CPU per event through a service's subscriber (no-op handler)"
SPEC = consumer("notifier", "notifier_grant_expired")
WORKERS = 8  # as the notifier subscribes (services/notifier/entrypoints/subscribers.py)
PASSWORD_ENV = "ACCESSBOT_BENCH_NATS_PASSWORD"  # noqa: S105 - a variable's name
HANDLED_TIMEOUT = 120.0


def _event() -> Message:
    """The example `access.grant.expired`, about a request of its own."""
    return EXAMPLES[Subject.GRANT_EXPIRED].model_copy(update={"request_id": new_id()})


def _settings(url: str, user: str, password: str) -> ServiceSettings:
    return ServiceSettings.model_validate(
        {"nats_url": url, "nats_user": user, "nats_password": password}
    )


# -- the publisher, in a process of its own -------------------------------------------------


async def _publish(url: str, events: int, rate: float) -> None:
    nc = await connect(_settings(url, ADMIN_USER, os.environ[PASSWORD_ENV]), name="bench-pub")
    publisher = EventPublisher(nc.jetstream(), source="accessbot/bench")
    started = time.monotonic()
    for i in range(events):
        await publisher.publish(_event())
        if rate > 0:  # on schedule, whatever each publish took
            await asyncio.sleep(max(0.0, started + (i + 1) / rate - time.monotonic()))
    await nc.drain()


def _publisher(server: EmbeddedNats, events: int, rate: float) -> subprocess.Popen[bytes]:
    command = ["-m", "bench.subscriber_cpu", "--publish", server.url, str(events), str(rate)]
    return subprocess.Popen(  # noqa: S603 - this module
        [sys.executable, *command],
        env={**os.environ, PASSWORD_ENV: server.passwords[ADMIN_USER]},
    )


# -- the subscriber, in this process ----------------------------------------------------


class Handled:
    """Counts handled events; CPU time and the messages the client received (`received`
    reads its count) from the first to the last of `expected`."""

    def __init__(self, expected: int, received: Callable[[], int]) -> None:
        self.expected = expected
        self.seen = 0
        self._received = received
        self.first_cpu = 0.0
        self.first_received = 0
        self.done = asyncio.Event()

    def handled(self) -> None:
        self.seen += 1
        if self.seen == 1:
            self.first_cpu = time.process_time()
            self.first_received = self._received()
        if self.seen == self.expected:
            self.done.set()

    async def per_event(self) -> tuple[float, float]:
        """CPU (us) and messages received per event, once all are handled."""
        await asyncio.wait_for(self.done.wait(), HANDLED_TIMEOUT)
        cpu = 1e6 * (time.process_time() - self.first_cpu)
        received = self._received() - self.first_received
        return cpu / (self.expected - 1), received / (self.expected - 1)


@contextlib.asynccontextmanager
async def nats_server() -> AsyncIterator[EmbeddedNats]:
    with tempfile.TemporaryDirectory(prefix="bench-subscriber-") as tmp:
        server = EmbeddedNats(data_dir=Path(tmp), port=free_port())
        server.start()
        try:
            admin = await connect(
                _settings(server.url, ADMIN_USER, server.passwords[ADMIN_USER]), name="bench"
            )
            await provision(admin.jetstream())
            await admin.drain()
            yield server
        finally:
            server.stop()


async def _through_subscriber(events: int, rate: float, *, backlog: bool) -> tuple[float, float]:
    """CPU (us) and NATS messages received per event (the events, fetch answers, acks')."""
    async with nats_server() as server:
        if backlog:
            await asyncio.to_thread(_publisher(server, events, 0).wait)
        settings = _settings(server.url, "notifier", server.passwords["notifier"])
        broker = make_broker(settings, name="bench-notifier")
        counter = Handled(events, lambda: int(broker.connection.stats["in_msgs"]))

        async def handler(_envelope: Envelope[GrantExpired]) -> None:
            counter.handled()

        subscribe_events(broker, SPEC, GrantExpired, handler, max_workers=WORKERS)
        async with broker:
            await broker.start()
            child = None if backlog else _publisher(server, events, rate)
            try:
                return await counter.per_event()
            finally:
                if child is not None:
                    await asyncio.to_thread(child.wait)


async def _through_nats_py(events: int, rate: float, *, push: bool) -> tuple[float, float]:
    """CPU (us) and NATS messages received per event, as `_through_subscriber`."""
    async with nats_server() as server:
        nc = await connect(
            _settings(server.url, ADMIN_USER, server.passwords[ADMIN_USER]), name="bench-bare"
        )
        js, subject = nc.jetstream(), Subject.GRANT_EXPIRED.value
        counter = Handled(events, lambda: int(nc.stats["in_msgs"]))

        async def handle(msg: Msg) -> None:
            decode_as(GrantExpired, msg.subject, msg.headers, msg.data)
            await msg.ack()
            counter.handled()

        async def pull_loop() -> None:
            pull = await js.pull_subscribe(subject, durable="bench_pull", stream=ACCESS_STREAM)
            while not counter.done.is_set():
                with contextlib.suppress(TimeoutError):
                    for msg in await pull.fetch(16, timeout=5.0):
                        await handle(msg)

        fetching = None
        if push:
            config = ConsumerConfig(
                durable_name="bench_push",
                deliver_subject=nc.new_inbox(),
                ack_policy=AckPolicy.EXPLICIT,
                deliver_policy=DeliverPolicy.NEW,
                max_ack_pending=1000,
            )
            await js.subscribe(
                subject, stream=ACCESS_STREAM, cb=handle, manual_ack=True, config=config
            )
        else:
            fetching = asyncio.create_task(pull_loop())
        child = _publisher(server, events, rate)
        try:
            return await counter.per_event()
        finally:
            if fetching is not None:
                fetching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await fetching
            await asyncio.to_thread(child.wait)
            await nc.close()


async def measure(events: int, rate: float) -> RunFigures:
    shapes: dict[str, Callable[[], Awaitable[tuple[float, float]]]] = {
        "trickle": lambda: _through_subscriber(events, rate, backlog=False),
        "backlog": lambda: _through_subscriber(events, rate, backlog=True),
        "nats_py_pull_trickle": lambda: _through_nats_py(events, rate, push=False),
        "nats_py_push_trickle": lambda: _through_nats_py(events, rate, push=True),
    }
    figures: RunFigures = {}
    for shape, run in shapes.items():  # one after another: each alone on the cores
        figures[f"{shape}_us_per_event"], figures[f"{shape}_msgs_in_per_event"] = await run()
    return figures


def _options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--events", type=int, default=None, help="events per shape (1500)")
    parser.add_argument("--rate", type=float, default=150.0, help="trickle: events/s (150)")


def main() -> None:
    if sys.argv[1:2] == ["--publish"]:
        url, events, rate = sys.argv[2], int(sys.argv[3]), float(sys.argv[4])
        event_loop.run(_publish(url, events, rate))
        return
    args = parse_args(__doc__ or TITLE, default_runs=3, extra=_options)
    events = args.events or (300 if args.quick else 1500)
    if events < 2 or args.rate <= 0:
        sys.exit("subscriber_cpu: --events must be at least 2 and --rate above 0")
    report = Report(
        NAME,
        TITLE,
        params={"runs": args.runs, "quick": args.quick, "events": events, "rate": args.rate},
        units=dict.fromkeys(
            (
                "trickle_us_per_event",
                "backlog_us_per_event",
                "nats_py_pull_trickle_us_per_event",
                "nats_py_push_trickle_us_per_event",
            ),
            "us",
        ),
    )
    report.notes.append(
        "us of this process's CPU per event, first to last handled; trickle = one message "
        "per fetch, backlog = full batches, nats_py_* = decode + ack without FastStream and "
        "the middleware, from a pull subscription's fetch or a push consumer's callback; "
        "msgs_in = NATS messages the subscriber's connection received per event"
    )
    report.header()
    run_as_service(
        report, args.runs, "notifier", lambda: event_loop.run(measure(events, args.rate))
    )
    report.finish(args.results_dir)


if __name__ == "__main__":
    main()
