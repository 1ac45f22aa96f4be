"""Intake settings: the shared ones plus Slack credentials and transport (from the env)."""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, SecretStr, model_validator

from shared.settings import ServiceSettings


class IntakeSettings(ServiceSettings):
    """Read from SLACK_* environment variables; secrets are never logged."""

    slack_bot_token: SecretStr = Field(description="Bot token (xoxb-...).")
    slack_app_token: SecretStr | None = Field(
        default=None, description="App-level token (xapp-...) with connections:write; socket mode."
    )
    slack_signing_secret: SecretStr | None = Field(
        default=None, description="Signing secret verifying requests in http mode."
    )
    slack_mode: Literal["socket", "http"] = Field(
        default="socket", description="Socket Mode (no public URL) or an HTTP endpoint."
    )
    slack_api_url: str = Field(
        default="https://slack.com/api/", description="Web API base URL (an emulator in tests)."
    )
    slack_http_host: str = Field(
        default="127.0.0.1", description="Where http mode listens (put a TLS proxy in front)."
    )
    slack_http_port: int = Field(default=3000, ge=0, le=65535, description="0 picks a free port.")

    @model_validator(mode="after")
    def _credentials_for_mode(self) -> Self:
        # An empty value counts as missing (compose passes unset variables as "").
        if self.slack_mode == "socket" and not _given(self.slack_app_token):
            raise ValueError("SLACK_APP_TOKEN is required when SLACK_MODE=socket")
        if self.slack_mode == "http" and not _given(self.slack_signing_secret):
            raise ValueError("SLACK_SIGNING_SECRET is required when SLACK_MODE=http")
        return self


def _given(secret: SecretStr | None) -> bool:
    return secret is not None and bool(secret.get_secret_value().strip())
