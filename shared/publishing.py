"""Publishing events to JetStream as CloudEvents, deduplicated by event id."""

from __future__ import annotations

from datetime import datetime

from nats.js import JetStreamContext
from nats.js.api import PubAck

from shared.contracts.cloudevents import EncodedMessage, encode, encode_body
from shared.contracts.events import Message
from shared.contracts.subjects import ACCESS_STREAM
from shared.leaderless import with_patience
from shared.persistence.outbox import OutboxEntry
from shared.tracecontext import outgoing


class EventPublisher:
    """Puts events on the ACCESS stream; a re-publish with the same id is dropped there."""

    def __init__(self, js: JetStreamContext, *, source: str, timeout: float = 5.0) -> None:
        self._js = js
        self._source = source
        self._timeout = timeout

    @property
    def source(self) -> str:
        """The `ce-source` of everything this publisher sends."""
        return self._source

    async def publish(
        self,
        event: Message,
        *,
        event_id: str | None = None,
        time: datetime | None = None,
        patience: float = 0.0,
    ) -> PubAck:
        """Publish and wait for the stream's ack (raises on failure: nothing is lost silently).

        Pass a stable `event_id` when re-publishing after a crash so JetStream dedupes it.
        The event carries the trace it was caused in (`shared.tracecontext`).
        `patience`: for that many seconds, a publish nobody answered is sent again (the same
        message, so its id dedupes a copy that did land): long enough to ride out a stream
        leader election on a cluster.
        """
        trace = outgoing(event.request_id)  # the handler's span, or the request's trace
        msg = encode(
            event, source=self._source, event_id=event_id, time=time, traceparent=trace.traceparent
        )
        return await self._send(msg, patience=patience)

    async def publish_entry(self, entry: OutboxEntry) -> PubAck:
        """Publish an outbox entry as stored: its id, time and body (validated when staged)."""
        trace = outgoing(entry.request_id)
        msg = encode_body(
            entry.subject,
            entry.request_id,
            entry.encoded(),
            source=self._source,
            event_id=entry.event_id,
            time=entry.time,
            traceparent=trace.traceparent,
        )
        return await self._send(msg)

    async def _send(self, msg: EncodedMessage, *, patience: float = 0.0) -> PubAck:
        async def send() -> PubAck:
            return await self._js.publish(
                msg.subject,
                msg.body,
                timeout=self._timeout,
                stream=ACCESS_STREAM,
                headers=msg.headers,
            )

        return await with_patience(send, patience)
