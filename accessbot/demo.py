"""`accessbot demo`: one scripted request, from the shortcut to expiry, and what everyone saw.

It runs the real system (embedded NATS, the four services as processes) against the
Slack and Tailscale emulators: Dana asks for demo access on her laptop, Bob approves in
his DM, grants sets the attribute with an expiry, and when the time is over grants
removes it. Then it prints the event stream and every Slack message as posted and
updated, per person and channel.
"""

from __future__ import annotations

import asyncio
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import TextIO

from accessbot.demo_console import Watch, check_console_port, maybe_console
from accessbot.demo_render import Names, clip, json_value, render_mrkdwn
from accessbot.harness import SERVICE_STOP_SECONDS, Harness, start_harness
from accessbot.sandbox import slack_user_id
from accessbot.scenario import file_request, press_in_dm
from shared.cancellation import to_the_end
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import (
    ApprovalEscalated,
    ApprovalReminded,
    ApprovalRequested,
    DecideRequest,
    GrantApplied,
    GrantExpired,
    Message,
    RequestApproved,
    SubmitRequest,
)
from shared.slack_ids import ActionId

REQUESTER = "dana@example.com"
APPROVER = "bob@example.com"
AUDIT_CHANNEL = "C0DEMOAUDIT"
# With the console open, time to open the page, then a pause before each scripted click.
CONSOLE_LEAD_SECONDS = 5.0
CONSOLE_STEP_SECONDS = 2.5


def demo_profiles(duration_seconds: int) -> str:
    """A one-profile profiles.yaml whose grants last `duration_seconds`."""
    return f"""\
admins: [secops@example.com]
profiles:
  - id: demo
    description: Demo production
    attribute: custom:demoAccess
    value: true
    max_duration: {duration_seconds}s
    approvers: {{emails: [{APPROVER}]}}
    devices: own
    require_reason: true
    notify_channels: [{AUDIT_CHANNEL}]
"""


def describe(event: Message, names: Names) -> str:  # noqa: PLR0911 - one case per event type
    """One line about an event, for the timeline (devices by name, values as JSON)."""
    match event:
        case SubmitRequest():
            return (
                f"{event.requester.email} asks for {event.profile_id} on "
                f"{names.device(event.device_id)} "
                f"for {event.duration_seconds}s: {event.reason!r}"
            )
        case ApprovalRequested():
            return "asking " + ", ".join(p.email for p in event.approvers)
        case ApprovalReminded():
            return "reminding " + ", ".join(p.email for p in event.approvers)
        case ApprovalEscalated():
            return "escalating to " + (", ".join(p.email for p in event.approvers) or "nobody")
        case DecideRequest():
            return f"{event.decider.email} pressed {event.decision.value}"
        case RequestApproved():
            return f"approved ({event.mode.value}) by " + (
                ", ".join(p.email for p in event.approvers) or "rule"
            )
        case GrantApplied():
            until = f"{event.expires_at.astimezone():%H:%M:%S %Z}"
            return (
                f"{event.attribute}={json_value(event.value)} set on "
                f"{names.device(event.device_id)} until {until}"
            )
        case GrantExpired():
            return f"{event.attribute} removed from {names.device(event.device_id)}"
    fields = event.model_dump(mode="json", exclude={"schema_version", "request_id", "requester"})
    return ", ".join(f"{k}={json_value(v)}" for k, v in fields.items() if v not in (None, [], ""))


def device_names(harness: Harness) -> dict[str, str]:
    """nodeId -> the hostname people know the device by (as the notifier shows it)."""
    return {d["nodeId"]: d.get("hostname") or d["name"] for d in harness.tailscale.devices()}


def demo_names(harness: Harness) -> Names:
    """Who and what the ids in the demo's events and Slack messages stand for."""
    workspace = harness.slack.workspace
    people = {u.id: u.real_name or u.name for u in workspace.users.values()}
    channels = {c.id: c.name for c in workspace.channels.values()}
    groups = {g.id: g.handle for g in workspace.usergroups.values()}
    return Names(people=people, channels=channels, devices=device_names(harness), groups=groups)


def print_events(
    events: list[Envelope[Message]], start: float, out: TextIO, names: Names | None = None
) -> None:
    """The ACCESS stream: time since start, subject, publisher, summary."""
    print("\nEvent stream (JetStream ACCESS, as a SIEM reads it):", file=out)
    for envelope in events:
        offset = envelope.meta.time.timestamp() - start
        source = envelope.meta.source.removeprefix("accessbot/")
        subject = envelope.event.SUBJECT.value
        line = describe(envelope.event, names or Names())
        print(f"  +{offset:6.2f}s  {subject:28} {source:9} {line}", file=out)


def print_slack(harness: Harness, start: float, out: TextIO, names: Names | None = None) -> None:
    """Every message posted or updated, grouped by who saw it, as Slack renders it."""
    slack = harness.slack
    names = names or demo_names(harness)
    now = datetime.now(UTC)
    places = {slack.dm_channel(slack_user_id(e)): f"{e} (DM)" for e in (REQUESTER, APPROVER)}
    places[AUDIT_CHANNEL] = "#access-audit (audit channel)"
    seen: dict[str, list[str]] = {}
    for entry in slack.timeline():
        if entry["kind"] not in ("message_posted", "message_updated"):
            continue
        where = places.get(entry["channel"], entry["channel"])
        verb = "posted " if entry["kind"] == "message_posted" else "updated"
        if entry.get("thread_ts"):
            verb = "thread "
        offset = entry["time"] - start
        text = clip(render_mrkdwn(entry.get("text") or "", names, now=now), 110)
        seen.setdefault(where, []).append(f"  +{offset:6.2f}s  {verb} {text}")
    print("\nWhat each person saw in Slack:", file=out)
    for where, lines in seen.items():
        print(f" {where}", file=out)
        for line in lines:
            print(line, file=out)


async def run_demo(
    *,
    duration_seconds: int = 10,
    data_dir: Path | None = None,
    out: TextIO,
    console_port: int | None = None,
    watch: Watch | None = None,
) -> int:
    """Run the scripted flow; 0 when it went through to expiry.

    With `console_port`, the sandbox console shows it at a pace a person can follow,
    and stays open afterwards until `watch` is interrupted."""

    def say(text: str, start: float) -> None:
        print(f"[+{time.time() - start:6.2f}s] {text}", file=out, flush=True)

    check_console_port(console_port)
    base = data_dir or Path(tempfile.mkdtemp(prefix="accessbot-demo-"))
    base.mkdir(parents=True, exist_ok=True)
    profiles = base / "profiles.yaml"
    profiles.write_text(demo_profiles(duration_seconds), encoding="utf-8")
    print("Starting NATS, the Slack and Tailscale emulators, and the four services…", file=out)
    harness = await start_harness(base, profiles_path=profiles, devices=30)
    print(f"NATS at {harness.nats.url}; logs in {base / 'logs'}", file=out, flush=True)
    try:
        async with maybe_console(harness, console_port, base / "logs") as console:
            pace = 0.0
            if console is not None:
                lead = f"the demo starts in {CONSOLE_LEAD_SECONDS:.0f}s"
                watch_line = f"Watch it in the sandbox console: {console.url} ({lead})"
                print(watch_line, file=out, flush=True)
                await asyncio.sleep(CONSOLE_LEAD_SECONDS)
                pace = CONSOLE_STEP_SECONDS
            start = time.time()
            await _script(harness, start, say, duration_seconds, pace)
            names = demo_names(harness)
            print_events(await harness.events(), start, out, names)
            print_slack(harness, start, out, names)
            if console is not None and watch is not None:
                stays = f"The sandbox console stays open at {console.url}"
                print(f"\n{stays}; press Ctrl-C to stop.", file=out, flush=True)
                await watch.linger()
    finally:
        for name in await to_the_end(harness.stop()):
            print(f"{name} did not stop within {SERVICE_STOP_SECONDS:.0f}s; killed", file=out)
    print(f"\nLogs and data: {base}", file=out)
    return 0


async def _script(
    harness: Harness,
    start: float,
    say: Callable[[str, float], None],
    duration_seconds: int,
    pace: float = 0.0,
) -> None:
    """The clicks; `pace` seconds before each so a person watching the console follows."""
    dana, bob = slack_user_id(REQUESTER), slack_user_id(APPROVER)
    say("Dana presses the 'Request access' shortcut and fills in the form", start)
    await file_request(
        harness.slack,
        dana,
        profile_id="demo",
        reason="Deploying the hotfix for INC-4211",
        pace=pace,
    )
    submitted = await harness.wait_for_event("access.request.submitted")
    request_id = submitted[0].event.request_id
    say(f"request {request_id} submitted; approvals asks Bob", start)
    await harness.wait_for_event("access.approval.requested", request_id)
    await asyncio.sleep(pace)
    say("Bob presses Approve in his DM", start)
    await press_in_dm(harness.slack, bob, ActionId.APPROVE, request_id)
    applied = (await harness.wait_for_event("access.grant.applied", request_id))[0].event
    assert isinstance(applied, GrantApplied)
    attrs = harness.tailscale.attributes(applied.device_id)
    value = json_value(attrs[applied.attribute]["value"])
    device = device_names(harness).get(applied.device_id, applied.device_id)
    expiry = applied.expires_at.astimezone()
    say(f"Tailscale now has {applied.attribute}={value} on {device}, "
        f"expiring {expiry:%H:%M:%S %Z}", start)  # fmt: skip
    wait = max(0.0, (applied.expires_at - datetime.now(UTC)).total_seconds()) + 10
    say(f"waiting for the {duration_seconds}s grant to expire…", start)
    await harness.wait_for_event("access.grant.expired", request_id, timeout=wait)
    gone = applied.attribute not in harness.tailscale.attributes(applied.device_id)
    say(f"expired: grants removed {applied.attribute} ({'gone' if gone else 'STILL SET'})", start)
    await asyncio.sleep(1.0)  # let the notifier's last updates land before printing
