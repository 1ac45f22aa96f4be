"""Settings every service shares, read from the environment (pydantic-settings).

Each service extends `ServiceSettings` in its own `settings.py` with only the
secrets it holds: only grants' settings have Tailscale fields.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """NATS connection, profiles, logging and health for one service."""

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    nats_url: str = Field(default="nats://127.0.0.1:4222", description="NATS server URL(s).")
    nats_user: str | None = Field(default=None, description="This service's NATS user.")
    nats_password: SecretStr | None = Field(default=None, description="Its NATS password.")
    profiles_path: Path = Field(default=Path("profiles.yaml"), description="profiles.yaml.")
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    health_host: str = "127.0.0.1"
    health_port: int | None = Field(
        default=None, description="Port of the /healthz and /readyz endpoint; unset: off."
    )
    access_max_age_days: int = Field(
        default=400, gt=0, description="How long the ACCESS stream keeps events."
    )
    stream_replicas: int = Field(default=1, ge=1, le=5, description="JetStream replicas.")

    @field_validator("nats_url")
    @classmethod
    def _names_a_server(cls, value: str) -> str:
        # An empty or blank NATS_URL would have nats-py retry "no server" for ever.
        if not [part for part in value.split(",") if part.strip()]:
            raise ValueError("names no server (e.g. nats://127.0.0.1:4222)")
        return value
