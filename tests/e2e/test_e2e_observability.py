"""End to end (issue 13 §7, §8): one request through the four service processes is one
trace id on every event and log line, and moves every service's Prometheus counters."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
from prometheus_client.parser import text_string_to_metric_families

from accessbot.harness import Harness
from accessbot.scenario import press_in_dm
from shared.contracts.subjects import Subject
from shared.slack_ids import ActionId
from shared.tracecontext import parse_traceparent, request_trace_id
from tests.e2e.support import (
    BOB,
    DANA,
    TIMEOUT,
    one_event,
    running_harness,
    submit,
    uid,
    wait_for_dm,
)

SERVICES = ("intake", "approvals", "grants", "notifier")
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(harness: Harness, service: str) -> Samples:
    url = f"http://127.0.0.1:{harness.services[service].health_port}/metrics"
    async with httpx.AsyncClient() as http:
        response = await http.get(url, timeout=5.0)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def total(samples: Samples, name: str, **labels: str) -> float:
    wanted = set(labels.items())
    return sum(v for (n, got), v in samples.items() if n == name and wanted <= got)


def log_lines(path: Path, request_id: str) -> list[dict[str, object]]:
    lines = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        try:
            line = json.loads(raw)
        except ValueError:
            continue  # library lines in their own format (issue 13 §1 is another's part)
        if isinstance(line, dict) and line.get("request_id") == request_id:
            lines.append(line)
    return lines


async def test_one_request_is_one_trace_and_moves_the_metrics(tmp_path: Path) -> None:
    async with running_harness(tmp_path) as harness:
        rid = await submit(harness, DANA, "short", reason="Quick look", duration_seconds=4)
        await wait_for_dm(harness, BOB, rid, "asks for")
        waiting = await scrape(harness, "approvals")
        await press_in_dm(harness.slack, uid(BOB), ActionId.APPROVE, rid, timeout=TIMEOUT)
        await one_event(harness, Subject.GRANT_APPLIED, rid)
        # Another request's grant stays active (an hour) while the first one expires.
        other = await submit(harness, DANA, "prod", reason="Deploying hotfix")
        await wait_for_dm(harness, BOB, other, "asks for")
        await press_in_dm(harness.slack, uid(BOB), ActionId.APPROVE, other, timeout=TIMEOUT)
        await one_event(harness, Subject.GRANT_APPLIED, other)
        await one_event(harness, Subject.GRANT_EXPIRED, rid)
        await wait_for_dm(harness, DANA, rid, r"Access ended")
        events = [e for e in await harness.events() if e.event.request_id == rid]
        after = {name: await scrape(harness, name) for name in SERVICES}
        logs = {name: log_lines(harness.services[name].log_path, rid) for name in SERVICES}

    # §8: every event of the request, from intake's first on, carries one trace id.
    subjects = {e.meta.type.removeprefix("io.accessbot.") for e in events}
    assert {
        "access.request.submitted",
        "access.approval.requested",
        "access.decision.submitted",
        "access.request.approved",
        "access.grant.applied",
        "access.grant.expired",
    } <= subjects
    traces = [parse_traceparent(e.meta.traceparent) for e in events]
    assert all(t is not None for t in traces), [e.meta for e in events]
    trace_id = request_trace_id(rid)
    assert {t.trace_id for t in traces if t is not None} == {trace_id}
    # Each event names its sender's span: they are not all one copied header.
    assert len({t.span_id for t in traces if t is not None}) > 1
    for name in SERVICES:
        assert logs[name], f"{name} logged nothing about {rid}"
        assert {line.get("trace_id") for line in logs[name]} == {trace_id}, name

    # §7: the counters moved in every service.
    assert total(waiting, "accessbot_pending_requests", profile="short") == 1
    approvals, grants, notifier, intake = (
        after[n] for n in ("approvals", "grants", "notifier", "intake")
    )
    handled = {"outcome": "handled"}
    for consumer in ("approvals_submitted", "approvals_decision"):
        assert total(approvals, "accessbot_events_total", consumer=consumer, **handled) == 2
    assert total(approvals, "accessbot_event_handler_seconds_count") >= 2
    assert total(grants, "accessbot_events_total", consumer="grants_approved", **handled) == 2
    assert total(grants, "accessbot_events_total", subject="timers.due.grant.*", **handled) == 1
    assert total(grants, "accessbot_active_grants", profile="prod") == 1
    assert total(grants, "accessbot_active_grants", profile="short") == 0
    assert total(grants, "accessbot_grant_approved_to_applied_seconds_count") == 2
    assert total(grants, "accessbot_grant_expiry_lateness_seconds_count") == 1
    post = {"method": "POST", "endpoint": "device_attribute", "status": "200"}
    assert total(grants, "accessbot_tailscale_api_calls_total", **post) == 2
    submitted = {"consumer": "notifier_request_submitted", **handled}
    assert total(notifier, "accessbot_events_total", **submitted) == 2
    assert total(notifier, "accessbot_events_total", outcome="handled") >= 9
    assert total(notifier, "accessbot_slack_api_calls_total", method="chat.postMessage") >= 2
    assert total(intake, "accessbot_slack_api_calls_total", status="200") >= 1
