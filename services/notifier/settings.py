"""Notifier settings: the Slack bot token, and where Slack and the Tailscale console live."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings
from shared.slack_limits import BUTTON_URL

# A device link is this base, a slash and a Tailscale IPv4 address: it must fit a button's url.
_ADMIN_URL_MAX = BUTTON_URL - len("/100.100.100.100")


class NotifierSettings(ServiceSettings):
    """ServiceSettings plus what the notifier alone needs."""

    slack_bot_token: SecretStr = Field(description="Bot token (xoxb-...) used to post.")
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API base URL (emulator in tests)."
    )
    tailscale_admin_url: str = Field(
        default="https://login.tailscale.com/admin/machines",
        description="Base of device links shown to approvers; not a credential.",
        max_length=_ADMIN_URL_MAX,
    )
