"""Everything the emulator holds, shared by the web API, deliveries and the driver."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from emulators.slack.home import HomeStore
from emulators.slack.ids import IdFactory
from emulators.slack.inspection import Recorder
from emulators.slack.messages import MessageStore
from emulators.slack.modals import ModalStore, TriggerStore
from emulators.slack.rate_limits import RateLimiter
from emulators.slack.workspace import Workspace


@dataclass(frozen=True)
class Settings:
    # repr=False: a printed Settings must not show credentials
    bot_token: str = field(repr=False)
    app_token: str = field(repr=False)
    signing_secret: str = field(repr=False)
    trigger_ttl: float = 3.0
    ack_timeout: float = 3.0
    # The bot token's scopes; None grants every scope (the methods in METHOD_SCOPES answer
    # `missing_scope` when their scope is not in the set).
    bot_scopes: frozenset[str] | None = None


class EmulatorState:
    def __init__(
        self,
        workspace: Workspace,
        settings: Settings,
        rate_limits: Mapping[str, int | None] | None,
        seed: int | None,
    ) -> None:
        self.workspace = workspace
        self.settings = settings
        self.ids = IdFactory(seed)
        self.recorder = Recorder()
        self.triggers = TriggerStore(self.ids, settings.trigger_ttl)
        self.modals = ModalStore(workspace, self.ids, self.recorder)
        self.messages = MessageStore(self.recorder)
        self.homes = HomeStore(workspace, self.ids, self.recorder)
        self.rate_limiter = RateLimiter(rate_limits)
        self.base_url = ""  # set when the server is listening
