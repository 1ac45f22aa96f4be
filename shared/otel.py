"""OpenTelemetry export (OTLP over HTTP), on only when `OTEL_EXPORTER_OTLP_ENDPOINT` is set.

Off by default: without the variable nothing of OpenTelemetry is imported. With it, each
handler run becomes a span (consumer kind) in the request's trace, under the span that
published the event, and the SDK's standard `OTEL_*` variables (headers, timeout,
sampling) apply. The packages are the optional group `accessbot[otel]`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import structlog

from shared import tracecontext
from shared.tracecontext import TraceContext

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
FLUSH_TIMEOUT_MS = 2000
log = structlog.get_logger("accessbot.otel")

_shutdown: Callable[[], None] | None = None


def enabled() -> bool:
    """Whether an OTLP endpoint is configured."""
    return any(os.environ.get(name) for name in ENDPOINT_VARIABLES)


def configure_tracing(service: str) -> bool:
    """Export spans when an endpoint is set; True when exporting. Safe to call twice."""
    global _shutdown  # noqa: PLW0603 - one exporter per process
    if _shutdown is not None or not enabled():
        return _shutdown is not None
    try:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
        from opentelemetry.sdk.resources import Resource
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor
    except ImportError:
        log.warning(
            "otel.unavailable",
            reason="OTEL_EXPORTER_OTLP_ENDPOINT is set but OpenTelemetry is not installed",
            hint="pip install 'accessbot[otel]'",
        )
        return False
    resource = Resource.create({"service.name": f"accessbot-{service}"})
    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    tracecontext.use_span_starter(_starter(provider))

    def shutdown() -> None:
        provider.force_flush(timeout_millis=FLUSH_TIMEOUT_MS)  # bounded: a stop stays quick
        provider.shutdown()

    _shutdown = shutdown
    log.info("otel.exporting", service_name=f"accessbot-{service}")
    return True


def shutdown_tracing() -> None:
    """Flush what is buffered (for at most FLUSH_TIMEOUT_MS) and stop exporting; blocking."""
    global _shutdown  # noqa: PLW0603 - one exporter per process
    if _shutdown is not None:
        tracecontext.use_span_starter(None)
        _shutdown()
        _shutdown = None


def _starter(provider: object) -> tracecontext.SpanStarter:
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider

    assert isinstance(provider, TracerProvider)
    tracer = provider.get_tracer("accessbot")

    @contextmanager
    def start(name: str, parent: TraceContext | None, trace_id: str) -> Iterator[TraceContext]:
        # The parent is the publisher's span (remote); without one, a remote parent that
        # carries the request's trace id, so the span joins the request's trace.
        remote = parent or TraceContext(trace_id, tracecontext.new_span_id())
        context = trace.set_span_in_context(
            trace.NonRecordingSpan(
                trace.SpanContext(
                    trace_id=int(remote.trace_id, 16),
                    span_id=int(remote.span_id, 16),
                    is_remote=True,
                    trace_flags=trace.TraceFlags(
                        trace.TraceFlags.SAMPLED if remote.sampled else trace.TraceFlags.DEFAULT
                    ),
                )
            )
        )
        with tracer.start_as_current_span(
            name, context=context, kind=trace.SpanKind.CONSUMER
        ) as span:
            own = span.get_span_context()
            yield TraceContext(
                format(own.trace_id, "032x"), format(own.span_id, "016x"), remote.sampled
            )

    return start
