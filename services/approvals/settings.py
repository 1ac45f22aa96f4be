"""Approvals' settings: it holds no external secret, so nothing beyond the shared ones."""

from __future__ import annotations

from shared.settings import ServiceSettings


class ApprovalsSettings(ServiceSettings):
    """NATS connection, profiles path, logging and health (see ServiceSettings)."""
