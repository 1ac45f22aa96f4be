"""Tailscale API calls by method, endpoint and HTTP status (429 included), and retries.

`endpoint` names the API operation (`device_attribute`), never a device id.
"""

from __future__ import annotations

from prometheus_client import Counter

TAILSCALE_CALLS = Counter(
    "accessbot_tailscale_api_calls_total",
    "Tailscale API attempts (each retry counts), by method, endpoint and HTTP status "
    "(`timeout` or `error` when no answer came).",
    ["method", "endpoint", "status"],
)
TAILSCALE_RETRIES = Counter(
    "accessbot_tailscale_api_retries_total",
    "Tailscale API attempts repeated after a retryable answer, by method, endpoint and status.",
    ["method", "endpoint", "status"],
)


def endpoint_of(path: str) -> str:
    """The operation a request path names, from a bounded vocabulary."""
    parts = path.strip("/").split("/")
    if parts == ["oauth", "token"]:
        return "oauth_token"
    if len(parts) == 3 and parts[0] == "tailnet" and parts[2] == "devices":
        return "devices"
    if len(parts) == 3 and parts[0] == "device" and parts[2] == "attributes":
        return "device_attributes"
    if len(parts) == 4 and parts[0] == "device" and parts[2] == "attributes":
        return "device_attribute"
    return "other"


def attempted(method: str, path: str, status: int | str) -> None:
    """Count one attempt and what answered it."""
    TAILSCALE_CALLS.labels(method, endpoint_of(path), str(status)).inc()


def retrying(method: str, path: str, status: int | None) -> None:
    """Count one retry (`status` None: no answer came)."""
    TAILSCALE_RETRIES.labels(method, endpoint_of(path), str(status or "none")).inc()
