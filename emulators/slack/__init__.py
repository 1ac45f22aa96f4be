"""Slack platform emulator: Web API, Socket Mode, HTTP delivery and simulated people.

from emulators.slack import SlackEmulator, Workspace, User, Channel

async with SlackEmulator(workspace=Workspace.seeded(seed=1)) as emu:
    client = AsyncWebClient(token="xoxb-emulator", base_url=emu.api_url)
"""

from emulators.slack.errors import AppResponseError, DeliveryError, DriverError
from emulators.slack.inspection import AckRecord, ApiCall, PostedMessage, Violation
from emulators.slack.server import SlackEmulator
from emulators.slack.workspace import Channel, User, Usergroup, Workspace

__all__ = [
    "AckRecord",
    "ApiCall",
    "AppResponseError",
    "Channel",
    "DeliveryError",
    "DriverError",
    "PostedMessage",
    "SlackEmulator",
    "User",
    "Usergroup",
    "Violation",
    "Workspace",
]
