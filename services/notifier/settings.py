"""Notifier settings: the Slack bot token, and where Slack and the Tailscale console live."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class NotifierSettings(ServiceSettings):
    """ServiceSettings plus what the notifier alone needs."""

    slack_bot_token: SecretStr = Field(description="Bot token (xoxb-...) used to post.")
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Slack Web API base URL (emulator in tests)."
    )
    tailscale_admin_url: str = Field(
        default="https://login.tailscale.com/admin/machines",
        description="Base of device links shown to approvers; not a credential.",
    )
