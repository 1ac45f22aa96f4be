"""W3C Trace Context for events: one trace per access request, carried from event to event.

Each event carries a `traceparent` (the CloudEvents distributed-tracing extension, the
`ce-traceparent` header in binary mode). A handler continues the trace of the event it
handles: it runs as a new span whose parent is the sender's, and everything it publishes
names that span as parent. Where no incoming trace exists (intake, which Slack drives, or
an event from before this extension), the trace id is derived from the request id, so the
request's first event and every later interaction of the same request share one trace id
without intake keeping any state.

Pure apart from one context variable; the OpenTelemetry exporter (`shared.otel`) is
optional and only mirrors these ids.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Protocol

TRACEPARENT_HEADER = "ce-traceparent"  # binary mode: `ce-` + the attribute name

_TRACEPARENT = re.compile(r"^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$")
_ZERO_TRACE = "0" * 32
_ZERO_SPAN = "0" * 16


@dataclass(frozen=True, slots=True)
class TraceContext:
    """A trace id and the current span in it (what goes out as `traceparent`)."""

    trace_id: str  # 32 lowercase hex digits
    span_id: str  # 16 lowercase hex digits
    sampled: bool = True

    @property
    def traceparent(self) -> str:
        """The W3C `traceparent` value naming this span as the parent."""
        return f"00-{self.trace_id}-{self.span_id}-{'01' if self.sampled else '00'}"

    def child(self) -> TraceContext:
        """A new span in the same trace."""
        return TraceContext(self.trace_id, new_span_id(), self.sampled)


def new_span_id() -> str:
    """A random, non-zero 8-byte span id."""
    while (span := secrets.token_hex(8)) == _ZERO_SPAN:
        continue  # pragma: no cover - one chance in 2**64
    return span


def request_trace_id(request_id: str) -> str:
    """The trace id of a request: the same from any service, for the request's lifetime."""
    digest = hashlib.sha256(f"accessbot-trace:{request_id}".encode()).hexdigest()[:32]
    return digest if digest != _ZERO_TRACE else "1" * 32


def parse_traceparent(value: str | None) -> TraceContext | None:
    """The context a `traceparent` names, or None when it is absent or malformed.

    As the W3C spec says, a value that does not parse is ignored (a new trace starts),
    not an error: tracing never makes an event unhandleable.
    """
    match = _TRACEPARENT.match((value or "").strip())
    if match is None:
        return None
    version, trace_id, span_id, flags, rest = match.groups()
    if version == "ff" or (version == "00" and rest) or trace_id == _ZERO_TRACE:
        return None
    if span_id == _ZERO_SPAN:
        return None
    return TraceContext(trace_id, span_id, bool(int(flags, 16) & 1))


def from_headers(headers: Mapping[str, str] | None) -> TraceContext | None:
    """The `ce-traceparent` of a message's headers (any case), parsed."""
    for name, value in (headers or {}).items():
        if name.lower() == TRACEPARENT_HEADER:
            return parse_traceparent(value)
    return None


def request_root(request_id: str) -> TraceContext:
    """A span starting (or rejoining) the request's trace when nothing came in."""
    return TraceContext(request_trace_id(request_id), new_span_id())


_CURRENT: ContextVar[TraceContext | None] = ContextVar("accessbot_trace", default=None)


def current() -> TraceContext | None:
    """The span the running handler is in, if any."""
    return _CURRENT.get()


def outgoing(request_id: str) -> TraceContext:
    """The context an event about `request_id` is published under: the running
    handler's span, else (intake, a start-up sweep) the request's own trace."""
    active = _CURRENT.get()
    return active if active is not None else request_root(request_id)


class SpanStarter(Protocol):
    """Starts a span named `name` under `parent` (or a root of `trace_id`), yields its context."""

    def __call__(
        self, name: str, parent: TraceContext | None, trace_id: str
    ) -> AbstractContextManager[TraceContext]: ...


@contextmanager
def _plain_span(name: str, parent: TraceContext | None, trace_id: str) -> Iterator[TraceContext]:
    del name  # only an exporter records names
    yield parent.child() if parent is not None else TraceContext(trace_id, new_span_id())


_starter: SpanStarter = _plain_span


def use_span_starter(starter: SpanStarter | None) -> None:
    """Record spans with `starter` (`shared.otel` installs OpenTelemetry's); None: ids only."""
    global _starter  # noqa: PLW0603 - one process-wide choice, made at start-up
    _starter = starter or _plain_span


@contextmanager
def handling(
    incoming: TraceContext | None, request_id: str, name: str = "handle"
) -> Iterator[TraceContext]:
    """Run a handler as a new span: a child of `incoming`, else of the request's trace."""
    with _starter(name, incoming, request_trace_id(request_id)) as span:
        token = _CURRENT.set(span)
        try:
            yield span
        finally:
            _CURRENT.reset(token)
