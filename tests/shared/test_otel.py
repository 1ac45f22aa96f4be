"""OpenTelemetry export: off (nothing imported) without an endpoint; with one, a real
service exports its handler spans, in the request's trace, to an OTLP/HTTP receiver."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from nats.js import JetStreamContext
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from accessbot.natsserver import EmbeddedNats, env_without_secrets
from shared.cloudevents import encode
from shared.events import RequestSubmitted
from shared.examples import EXAMPLES
from shared.ids import new_id
from shared.subjects import Subject
from shared.tracecontext import TraceContext, parse_traceparent
from tests.conftest import PROFILES_PATH, REPO_ROOT

pytestmark = pytest.mark.e2e

UPSTREAM = TraceContext("4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7")

WITHOUT_ENDPOINT = """
import sys
from shared import otel, tracecontext
import shared.runtime, shared.subscribing  # everything a service imports
assert otel.configure_tracing("approvals") is False
with tracecontext.handling(None, "01JDQ8X7K2M3N4P5Q6R7S8T9V0", "access.request.submitted"):
    pass
otel.shutdown_tracing()
# FastStream probes `import opentelemetry.semconv` (constants) when the package is there;
# the SDK, the API's tracer and the exporter must stay unloaded.
loaded = ("opentelemetry.sdk", "opentelemetry.exporter", "opentelemetry.trace")
print(sorted(m for m in sys.modules if m.startswith(loaded)))
"""


def test_without_an_endpoint_opentelemetry_is_not_even_imported() -> None:
    env = {k: v for k, v in env_without_secrets().items() if not k.startswith("OTEL_EXPORTER_OTLP")}
    result = subprocess.run(  # noqa: S603 - our interpreter, a fixed script
        [sys.executable, "-c", WITHOUT_ENDPOINT],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, list[ExportTraceServiceRequest]]]:
    """A tiny OTLP/HTTP receiver: POST /v1/traces with a protobuf body."""
    received: list[ExportTraceServiceRequest] = []

    async def traces(request: web.Request) -> web.Response:
        assert request.content_type == "application/x-protobuf"
        received.append(ExportTraceServiceRequest.FromString(await request.read()))
        return web.Response(body=b"", content_type="application/x-protobuf")

    app = web.Application()
    app.router.add_post("/v1/traces", traces)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}", received
    finally:
        await runner.cleanup()


async def test_a_service_exports_its_handler_spans_in_the_requests_trace(
    nats_server: EmbeddedNats,
    admin_js: JetStreamContext,
    receiver: tuple[str, list[ExportTraceServiceRequest]],
) -> None:
    endpoint, received = receiver
    env = env_without_secrets() | nats_server.env_for("approvals")
    env |= {
        "PROFILES_PATH": str(PROFILES_PATH),
        "LOG_FORMAT": "json",
        "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
        "OTEL_BSP_SCHEDULE_DELAY": "200",
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "services.approvals",
        cwd=REPO_ROOT,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    try:
        submitted = EXAMPLES[Subject.REQUEST_SUBMITTED]
        assert isinstance(submitted, RequestSubmitted)
        event = submitted.model_copy(update={"request_id": new_id()})
        msg = encode(event, source="test/intake", traceparent=UPSTREAM.traceparent)
        await admin_js.publish(msg.subject, msg.body, headers=msg.headers)
        for _ in range(300):
            if received:
                break
            await asyncio.sleep(0.1)
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = await asyncio.wait_for(proc.communicate(), timeout=30)
    spans = [
        (resource.resource, span)
        for request in received
        for resource in request.resource_spans
        for scope in resource.scope_spans
        for span in scope.spans
    ]
    [(resource, span)] = [(r, s) for r, s in spans if s.trace_id.hex() == UPSTREAM.trace_id]
    assert span.name == "access.request.submitted", stderr
    assert span.parent_span_id.hex() == UPSTREAM.span_id
    names = {a.key: a.value.string_value for a in resource.attributes}
    assert names["service.name"] == "accessbot-approvals"
    # What the handler published names the exported span as its parent.
    info = await admin_js.stream_info("ACCESS")
    caused = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        raw = await admin_js.get_msg("ACCESS", seq)
        trace = parse_traceparent((raw.headers or {}).get("ce-traceparent"))
        if raw.subject != Subject.REQUEST_SUBMITTED.value and trace is not None:
            caused.append(trace)
    assert caused
    assert {(t.trace_id, t.span_id) for t in caused} == {(UPSTREAM.trace_id, span.span_id.hex())}
