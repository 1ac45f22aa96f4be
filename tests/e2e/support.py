"""Helpers of the end-to-end suite: people, requests filed through Slack, what people see.

Everything a test does goes through the Slack emulator's driver (what people do);
everything it checks is what people see in Slack, the Tailscale emulator's state,
or the ACCESS event stream.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, TypeVar

from accessbot.harness import Harness, start_harness
from accessbot.sandbox import slack_user_id
from accessbot.scenario import file_request
from emulators.slack import PostedMessage
from shared.contracts.cloudevents import Envelope
from shared.contracts.events import Message, SubmitRequest
from shared.contracts.subjects import Subject

T = TypeVar("T")

PROFILES_PATH = Path(__file__).with_name("profiles.yaml")
AUDIT_CHANNEL = "C0E2EAUDIT1"
# Generous but bounded: CI is a loaded 2-core box running four services and NATS.
TIMEOUT = 30.0
POLL = 0.1
# start_harness's emulator removes expired attributes only after a lag, as Tailscale
# does, so the attribute disappearing at expiry shows that grants deleted it.

DANA = "dana@example.com"  # the sandbox requester, who approves nothing
ALICE = "alice@example.com"
BOB = "bob@example.com"
CAROL = "carol@example.com"
SECOPS = "secops@example.com"

# Environment variables whose values must never reach a log.
SECRET_ENV = frozenset(
    {
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "TAILSCALE_OAUTH_CLIENT_SECRET",
        "NATS_PASSWORD",
    }
)


def uid(email: str) -> str:
    """The Slack user id of a sandbox person."""
    return slack_user_id(email)


@asynccontextmanager
async def running_harness(
    data_dir: Path, *, extra_env: dict[str, dict[str, str]] | None = None
) -> AsyncIterator[Harness]:
    """NATS, both emulators and the four service processes, stopped afterwards."""
    harness = await start_harness(data_dir, profiles_path=PROFILES_PATH, extra_env=extra_env)
    try:
        yield harness
    finally:
        await harness.stop()


async def eventually(
    check: Callable[[], Awaitable[T | None]], what: str, timeout: float = TIMEOUT
) -> T:
    """Poll `check` until it returns something truthy; AssertionError naming `what` if not."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        await asyncio.sleep(POLL)


# -- the event stream -----------------------------------------------------------------------


async def events_for(harness: Harness, subject: Subject, request_id: str) -> list[Message]:
    """Bodies of the stored events on `subject` about `request_id`, oldest first."""
    return [
        e.event for e in await harness.events(subject.value) if e.event.request_id == request_id
    ]


async def one_event(
    harness: Harness, subject: Subject, request_id: str, timeout: float = TIMEOUT
) -> Envelope[Message]:
    """Wait for the first event on `subject` about `request_id`."""
    found = await harness.wait_for_event(subject.value, request_id, timeout=timeout)
    return found[0]


async def submit(
    harness: Harness,
    email: str,
    profile_id: str,
    *,
    reason: str = "Investigating INC-4211",
    duration_seconds: int | None = None,
    approver_email: str | None = None,
    device_id: str | None = None,
) -> str:
    """`email` fills in and submits the request form; returns the new request's id.

    `device_id`: searched for by node id and picked, as a person would; None: the
    first device the search offers."""
    subject = Subject.REQUEST_SUBMITTED.value
    known = {e.meta.id for e in await harness.events(subject)}
    ack = await file_request(
        harness.slack,
        uid(email),
        profile_id=profile_id,
        reason=reason,
        duration_seconds=duration_seconds,
        approver_email=approver_email,
        device_query=device_id or "",
    )
    assert ack is None, f"the request form was not accepted: {ack}"

    async def new_submission() -> str | None:
        for envelope in await harness.events(subject):
            event = envelope.event
            if (
                envelope.meta.id not in known
                and isinstance(event, SubmitRequest)
                and event.profile_id == profile_id
                and event.requester.email == email
                and device_id in (None, event.device_id)
            ):
                return event.request_id
        return None

    return await eventually(new_submission, f"{subject} from {email} for {profile_id}")


# -- what people see in Slack -----------------------------------------------------------------


def action_ids(message: PostedMessage) -> set[str]:
    """The interactive elements a message shows now."""
    found: set[str] = set()
    for block in message.blocks:
        elements = list(block.get("elements") or [])
        if block.get("accessory"):
            elements.append(block["accessory"])
        found.update(str(e["action_id"]) for e in elements if "action_id" in e)
    return found


def shown_text(message: PostedMessage) -> str:
    """The message as a person reads it now: its text and every text in its blocks."""
    parts = [message.text]

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "text" and isinstance(value, str):
                    parts.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(message.blocks)
    return "\n".join(parts)


def about(messages: list[PostedMessage], request_id: str) -> list[PostedMessage]:
    """The messages that concern one request (each names its request id)."""
    return [m for m in messages if request_id in m.text or request_id in json.dumps(m.blocks)]


def dms_about(harness: Harness, email: str, request_id: str) -> list[PostedMessage]:
    """The messages about `request_id` in `email`'s DM with the bot, as shown now."""
    return about(harness.slack.dms(uid(email)), request_id)


async def wait_for_dm(
    harness: Harness,
    email: str,
    request_id: str,
    pattern: str,
    *,
    timeout: float = TIMEOUT,
) -> PostedMessage:
    """Wait until a DM to `email` about `request_id` shows text matching `pattern`."""
    regex = re.compile(pattern)

    def shown() -> PostedMessage | None:
        for message in dms_about(harness, email, request_id):
            if regex.search(shown_text(message)):
                return message
        return None

    try:
        return await harness.slack.wait_until(shown, timeout=timeout)
    except TimeoutError:
        seen = "\n---\n".join(shown_text(m) for m in dms_about(harness, email, request_id))
        raise AssertionError(
            f"{email} was not shown /{pattern}/ about {request_id} within {timeout}s; "
            f"their DMs about it show:\n{seen or '<nothing>'}"
        ) from None


async def wait_for_channel(
    harness: Harness, channel: str, request_id: str, pattern: str, *, timeout: float = TIMEOUT
) -> PostedMessage:
    """Wait until a message in `channel` about `request_id` shows text matching `pattern`."""
    regex = re.compile(pattern)

    def shown() -> PostedMessage | None:
        for message in about(harness.slack.messages(channel), request_id):
            if regex.search(shown_text(message)):
                return message
        return None

    try:
        return await harness.slack.wait_until(shown, timeout=timeout)
    except TimeoutError:
        seen = "\n---\n".join(
            shown_text(m) for m in about(harness.slack.messages(channel), request_id)
        )
        raise AssertionError(
            f"{channel} did not show /{pattern}/ about {request_id} within {timeout}s; "
            f"it shows:\n{seen or '<nothing>'}"
        ) from None


async def wait_for_modal(harness: Harness, email: str, callback_id: str) -> dict[str, Any]:
    """Wait until intake has opened the modal `callback_id` for `email`."""
    return await harness.slack.driver.wait_for_view(
        uid(email), callback_id=callback_id, timeout=TIMEOUT
    )


# -- the tailnet ------------------------------------------------------------------------------


def own_devices(harness: Harness, email: str) -> list[str]:
    """Node ids of `email`'s own (untagged) devices in the emulated tailnet, in a stable order.

    One request per (profile, device) may be live at a time: a test that keeps two requests
    of one profile open files them on two devices."""
    return sorted(
        d["nodeId"]
        for d in harness.tailscale.devices()
        if d.get("user") == email and not d.get("tags")
    )


def attribute_calls(harness: Harness, method: str, device_id: str, attribute: str) -> list[Any]:
    """Calls to the Tailscale emulator about one attribute of one device."""
    path = rf"/device/{re.escape(device_id)}/attributes/{re.escape(attribute)}$"
    return harness.tailscale.calls_to(method, path)


# -- logs -------------------------------------------------------------------------------------


def assert_no_secret_logged(harness: Harness) -> None:
    """No service log holds a credential any service was given (or a NATS password)."""
    secrets: dict[str, str] = {}
    for name, service in harness.services.items():
        for key, value in service.env.items():
            if key in SECRET_ENV and value:
                secrets[value] = f"{name}'s {key}"
    for user, password in harness.nats.passwords.items():
        secrets.setdefault(password, f"NATS password of {user}")
    given = {label.split("'s ", 1)[-1] for label in secrets.values()}
    assert given >= SECRET_ENV, f"the harness gave no {sorted(SECRET_ENV - given)}"
    for name, service in harness.services.items():
        log = service.log_path.read_text(encoding="utf-8", errors="replace")
        assert log.strip(), f"{name} logged nothing: the check would be vacuous"
        leaked = sorted(label for value, label in secrets.items() if value in log)
        assert not leaked, f"{name}'s log contains {leaked}"
