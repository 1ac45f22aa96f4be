"""Grants' settings: the shared ones plus the Tailscale OAuth client and its tuning.

Only this service has Tailscale fields. Every field reads from the environment
variable of the same name in upper case (e.g. `TAILSCALE_OAUTH_CLIENT_SECRET`).
"""

from __future__ import annotations

from typing import Self

from pydantic import Field, SecretStr, field_validator, model_validator

from shared.settings import ServiceSettings


class GrantsSettings(ServiceSettings):
    """What grants needs beyond NATS: Tailscale credentials, retries, inventory, leases."""

    tailscale_oauth_client_id: str = Field(min_length=1, description="OAuth client id.")
    tailscale_oauth_client_secret: SecretStr = Field(
        description="OAuth client secret (tskey-client-...); never logged."
    )
    tailscale_api_url: str = Field(
        default="https://api.tailscale.com", description="API origin; /api/v2 is appended."
    )
    tailscale_tailnet: str = Field(
        default="-", min_length=1, description="Tailnet name; '-' is the credential's own."
    )
    tailscale_request_timeout_seconds: float = Field(
        default=10.0, gt=0, description="Timeout of one HTTP attempt."
    )
    tailscale_retry_budget_seconds: float = Field(
        default=20.0, gt=0, description="Total time one API call may spend retrying."
    )
    tailscale_retry_base_delay_seconds: float = Field(
        default=0.5, gt=0, description="First backoff delay; doubles per attempt."
    )
    tailscale_retry_max_delay_seconds: float = Field(
        default=8.0, gt=0, description="Cap of one backoff delay (Retry-After may exceed it)."
    )
    grants_lease_seconds: float | None = Field(
        default=None,
        gt=0,
        description="How long a replica owns a grant operation before another may take it "
        "over; default: retry budget + request timeout + 10s.",
    )
    grants_inventory_interval_seconds: float = Field(
        default=300.0, gt=0, description="Time between two device inventory syncs."
    )
    grants_inventory_concurrency: int = Field(
        default=256, ge=1, le=4096, description="KV writes in flight during a sync."
    )

    @property
    def lease_seconds(self) -> float:
        """The operation lease; longer than any one API call can take."""
        if self.grants_lease_seconds is not None:
            return self.grants_lease_seconds
        return self.tailscale_retry_budget_seconds + self.tailscale_request_timeout_seconds + 10

    @field_validator("tailscale_api_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError(f"TAILSCALE_API_URL must start with https:// (got {value!r})")
        return value.rstrip("/")

    @model_validator(mode="after")
    def _lease_outlives_a_call(self) -> Self:
        minimum = self.tailscale_request_timeout_seconds
        if self.grants_lease_seconds is not None and self.grants_lease_seconds <= minimum:
            raise ValueError(
                f"GRANTS_LEASE_SECONDS ({self.grants_lease_seconds}) must exceed "
                f"TAILSCALE_REQUEST_TIMEOUT_SECONDS ({minimum})"
            )
        if self.tailscale_retry_max_delay_seconds < self.tailscale_retry_base_delay_seconds:
            raise ValueError(
                "TAILSCALE_RETRY_MAX_DELAY_SECONDS must not be below "
                "TAILSCALE_RETRY_BASE_DELAY_SECONDS"
            )
        return self
