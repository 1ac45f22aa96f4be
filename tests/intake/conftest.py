"""Intake under test: the real service (built by `build`), a real nats-server and the
Slack emulator driven by simulated people, over Socket Mode or HTTP."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest
from nats.js import JetStreamContext
from slack_sdk.web.async_client import AsyncWebClient

from accessbot.natsserver import EmbeddedNats, free_port
from emulators.slack import Channel, SlackEmulator, User, Workspace
from services.intake.bootstrap import build
from services.intake.domain.metadata import ModalMetadata
from services.intake.settings import IntakeSettings
from shared.contracts.cloudevents import Envelope, decode
from shared.contracts.events import DeviceSnapshot, Message
from shared.contracts.subjects import ACCESS_STREAM, Bucket
from shared.profiles import ProfilesConfig
from shared.runtime import Service
from shared.slack_ids import ActionId, BlockId, ButtonValue
from tests.conftest import settings_for

T = TypeVar("T")

BOT_TOKEN = "xoxb-intake-test"
APP_TOKEN = "xapp-intake-test"
SIGNING_SECRET = "intake-test-signing-secret"

ERIN = User(id="U0ERIN", name="erin", real_name="Erin Requester", email="erin@example.com")
ALICE = User(id="U0ALICE", name="alice", real_name="Alice Example", email="alice@example.com")
BOB = User(id="U0BOB", name="bob", real_name="Bob Builder", email="bob@example.com")
CAROL = User(id="U0CAROL", name="carol", real_name="Carol Approver", email="carol@example.com")
DAVE = User(id="U0DAVE", name="dave", real_name="Dave Ops", email="dave@example.com")
SECOPS = User(id="U0SECOPS", name="secops", real_name="Sec Ops", email="secops@example.com")
APPROVALS = Channel(id="C0APPROVALS", name="access-approvals")

DEVICES = [
    DeviceSnapshot(
        node_id="nErinLaptopCNTRL",
        name="erin-laptop.tail1234.ts.net",
        hostname="erin-laptop",
        owner="erin@example.com",
        os="macOS",
        addresses=["100.64.0.10"],
        connected_to_control=True,
    ),
    DeviceSnapshot(
        node_id="nErinPhoneCNTRL",
        name="erin-phone.tail1234.ts.net",
        hostname="erin-phone",
        owner="erin@example.com",
        os="iOS",
        addresses=["100.64.0.11"],
        connected_to_control=False,
    ),
    DeviceSnapshot(
        node_id="nAliceLaptopCNTRL",
        name="alice-laptop.tail1234.ts.net",
        hostname="alice-laptop",
        owner="alice@example.com",
        os="linux",
        addresses=["100.64.0.20"],
        connected_to_control=True,
    ),
    DeviceSnapshot(
        node_id="nBobPcCNTRL",
        name="bob-pc.tail1234.ts.net",
        hostname="bob-pc",
        owner="bob@example.com",
        os="windows",
        addresses=["100.64.0.30"],
        connected_to_control=True,
    ),
    DeviceSnapshot(
        node_id="nDbServerCNTRL",
        name="db-1.tail1234.ts.net",
        hostname="db-1",
        owner="erin@example.com",
        tags=["tag:db"],
        os="linux",
        addresses=["100.64.1.1"],
        connected_to_control=True,
    ),
]


def workspace() -> Workspace:
    ws = Workspace.seeded(seed=1, users=5)
    for user in (ERIN, ALICE, BOB, CAROL, DAVE, SECOPS):
        ws.add_user(user)
    ws.add_user(User(id="U0GHOST", name="ghost", real_name="No Mail", email=""))
    ws.add_channel(APPROVALS)
    return ws


async def eventually(check: Callable[[], Awaitable[T | None]], timeout: float = 5.0) -> T:
    """Poll `check` until it returns something truthy, or fail after `timeout` seconds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(0.05)


async def published(js: JetStreamContext, subject: str | None = None) -> list[Envelope[Message]]:
    """Every event in the ACCESS stream (optionally of one subject), decoded and validated."""
    info = await js.stream_info(ACCESS_STREAM)
    found: list[Envelope[Message]] = []
    if not info.state.messages:
        return found
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        msg = await js.get_msg(ACCESS_STREAM, seq)
        assert msg.subject is not None
        assert msg.data is not None
        if subject is None or msg.subject == subject:
            found.append(decode(msg.subject, msg.headers, msg.data))
    return found


async def wait_published(
    js: JetStreamContext, subject: str, count: int = 1, timeout: float = 5.0
) -> list[Envelope[Message]]:
    """Wait until `count` events of `subject` are in the stream; return them."""

    async def enough() -> list[Envelope[Message]] | None:
        events = await published(js, subject)
        return events if len(events) >= count else None

    return await eventually(enough, timeout)


async def put_devices(js: JetStreamContext, devices: list[DeviceSnapshot]) -> None:
    """Write snapshots into KV `devices` as grants would (here: as admin)."""
    kv = await js.key_value(Bucket.DEVICES.value)
    for start in range(0, len(devices), 500):
        batch = devices[start : start + 500]
        await asyncio.gather(*(kv.put(d.node_id, d.model_dump_json().encode()) for d in batch))


def metadata(view: dict[str, Any]) -> ModalMetadata:
    return ModalMetadata.decode(view["private_metadata"])


def block_ids(view: dict[str, Any]) -> list[str]:
    return [b["block_id"] for b in view["blocks"] if b.get("type") == "input"]


def block(view: dict[str, Any], block_id: BlockId) -> dict[str, Any]:
    return next(b for b in view["blocks"] if b.get("block_id") == block_id.value)


def option_values(element: dict[str, Any]) -> list[str]:
    return [o["value"] for o in element.get("options", [])]


@dataclass
class Intake:
    """A running intake with its Slack emulator and an admin view of JetStream."""

    settings: IntakeSettings
    emu: SlackEmulator
    js: JetStreamContext
    mode: str
    http_url: str | None = None
    service: Service = field(init=False)

    async def start(self, profiles: ProfilesConfig | None = None) -> None:
        """(Re)build with `build()` as production does, start, and point Slack at it."""
        connections = len(self._socket_connects())
        self.service = build(self.settings, profiles=profiles)
        await self.service.start()
        if self.mode == "http":
            self.http_url = f"http://127.0.0.1:{self.settings.slack_http_port}/slack/events"
            self.emu.set_http_app_url(self.http_url)
            self.emu.delivery = "http"
        else:
            self.emu.delivery = "socket"
            await self.emu.wait_until(lambda: len(self._socket_connects()) > connections, 5.0)

    async def restart(self, profiles: ProfilesConfig | None = None) -> None:
        """A new intake process (e.g. after profiles.yaml changed)."""
        await self.service.stop()
        await self.start(profiles)

    def _socket_connects(self) -> list[dict[str, Any]]:
        return [e for e in self.emu.timeline() if e["kind"] == "socket_connected"]

    async def open_request_form(self, user: User, profile_id: str | None = None) -> dict[str, Any]:
        """Shortcut, then (optionally) choose a profile; the modal as the user sees it."""
        driver = self.emu.driver
        assert await driver.press_shortcut(user.id, "request_access") is None
        view = await driver.wait_for_view(user.id, callback_id="request_access_modal")
        if profile_id is not None:
            view = await self.choose_profile(user, profile_id, view)
        return view

    async def choose_profile(
        self, user: User, profile_id: str, view: dict[str, Any]
    ) -> dict[str, Any]:
        driver = self.emu.driver
        assert await driver.select(user.id, ActionId.PROFILE_SELECT.value, profile_id) is None
        return await driver.wait_for_view(user.id, newer_than=view)

    async def post_buttons(self, request_id: str, extension_id: str | None = None) -> str:
        """A message with the buttons the notifier posts; its ts."""
        value = ButtonValue(request_id, extension_id).encode()
        buttons = [
            {
                "type": "button",
                "action_id": a.value,
                "text": {"type": "plain_text", "text": t},
                "value": value,
            }
            for a, t in (
                (ActionId.APPROVE, "Approve"),
                (ActionId.DENY, "Deny"),
                (ActionId.REVOKE, "Revoke"),
                (ActionId.EXTEND, "Extend"),
                (ActionId.CANCEL, "Cancel"),
            )
        ]
        client = AsyncWebClient(token=BOT_TOKEN, base_url=self.emu.api_url)
        response = await client.chat_postMessage(
            channel=APPROVALS.id,
            text="Access request",
            blocks=[{"type": "actions", "block_id": BlockId.ACTIONS.value, "elements": buttons}],
        )
        return str(response["ts"])


def intake_settings(
    server: EmbeddedNats, emu: SlackEmulator, mode: str, **extra: Any
) -> IntakeSettings:
    base = settings_for(server, "intake").model_dump()
    base.update(
        slack_bot_token=BOT_TOKEN,
        slack_app_token=APP_TOKEN,
        slack_signing_secret=SIGNING_SECRET,
        slack_mode=mode,
        slack_api_url=emu.api_url,
        slack_http_port=free_port(),
        **extra,
    )
    return IntakeSettings.model_validate(base)


async def start_intake(
    server: EmbeddedNats, emu: SlackEmulator, js: JetStreamContext, mode: str, **extra: Any
) -> Intake:
    """Intake built by `build()` exactly as production builds it, started, Slack pointed at it."""
    settings = intake_settings(server, emu, mode, **extra)
    intake = Intake(settings=settings, emu=emu, js=js, mode=mode)
    await intake.start()
    return intake


@pytest.fixture
async def emulator() -> AsyncIterator[SlackEmulator]:
    emu = SlackEmulator(
        workspace=workspace(),
        bot_token=BOT_TOKEN,
        app_token=APP_TOKEN,
        signing_secret=SIGNING_SECRET,
    )
    await emu.start()
    try:
        yield emu
    finally:
        await emu.stop()


@pytest.fixture(params=["socket", "http"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def intake(
    nats_server: EmbeddedNats, admin_js: JetStreamContext, emulator: SlackEmulator, mode: str
) -> AsyncIterator[Intake]:
    await put_devices(admin_js, DEVICES)
    running = await start_intake(nats_server, emulator, admin_js, mode)
    try:
        yield running
    finally:
        await running.service.stop()
        assert not emulator.violations, [v.as_dict() for v in emulator.violations]


def signed_post_headers(emu: SlackEmulator, body: str, retry: int | None = None) -> dict[str, str]:
    headers = {"Content-Type": "application/x-www-form-urlencoded", **emu.signing.headers(body)}
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers


def form_body(payload: dict[str, Any]) -> str:
    from urllib.parse import urlencode

    return urlencode({"payload": json.dumps(payload)})
