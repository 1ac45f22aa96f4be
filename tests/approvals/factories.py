"""Builders shared by the approvals tests: profiles, devices, commands, settings."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from accessbot.natsserver import EmbeddedNats
from services.approvals.settings import ApprovalsSettings
from shared.contracts.events import (
    CancelRequest,
    DecideRequest,
    Decision,
    DeviceSnapshot,
    ExtendGrant,
    Person,
    SubmitRequest,
)
from shared.ids import new_id
from shared.profiles import ProfilesConfig, load_profiles
from tests.conftest import settings_for

PROFILES_PATH = Path(__file__).with_name("profiles.yaml")
NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)
REQUESTER = Person(email="dave@example.com", slack_user_id="U0DAVE")
OWN_DEVICE_ID = "nDAVE01CNTRL"
# Dave's other devices: one request per (profile, device) may be live at a time, so tests
# that keep several requests of one profile open use one device each.
DAVE_DEVICE_IDS = (OWN_DEVICE_ID, *(f"nDAVE{i:02d}CNTRL" for i in range(2, 9)))


@cache
def profiles() -> ProfilesConfig:
    """The test profiles (see profiles.yaml next to this file)."""
    return load_profiles(PROFILES_PATH)


def person(email: str) -> Person:
    """Someone identified by email only."""
    return Person(email=email)


def device(
    node_id: str = OWN_DEVICE_ID,
    owner: str | None = "dave@example.com",
    tags: list[str] | None = None,
) -> DeviceSnapshot:
    """A device as grants writes it to KV `devices`."""
    return DeviceSnapshot(
        node_id=node_id,
        name=f"{node_id.lower()}.tail1234.ts.net",
        hostname=node_id.lower(),
        owner=owner,
        tags=tags or [],
        os="linux",
    )


def submitted(**overrides: Any) -> SubmitRequest:
    """A valid submission for `prod` by dave, on his own device, for one hour... overridable."""
    values: dict[str, Any] = {
        "request_id": new_id(),
        "requester": REQUESTER,
        "profile_id": "prod",
        "device_id": OWN_DEVICE_ID,
        "duration_seconds": 2 * 3600,
        "approver_email": None,
        "reason": "INC-4211",
        "submitted_at": NOW,
    }
    values.update(overrides)
    return SubmitRequest(**values)


def decision(
    request_id: str,
    email: str,
    choice: Decision = Decision.APPROVE,
    *,
    extension_id: str | None = None,
    reason: str | None = None,
) -> DecideRequest:
    """Someone pressed Approve (or Deny)."""
    return DecideRequest(
        request_id=request_id,
        decider=person(email),
        decision=choice,
        extension_id=extension_id,
        reason=reason,
    )


def cancel(request_id: str, email: str = REQUESTER.email) -> CancelRequest:
    """Someone pressed Cancel."""
    return CancelRequest(request_id=request_id, actor=person(email))


def extend(
    request_id: str,
    seconds: int = 3600,
    *,
    email: str = REQUESTER.email,
    reason: str = "Still on it",
) -> ExtendGrant:
    """The requester asks for more time."""
    return ExtendGrant(
        request_id=request_id,
        extension_id=new_id(),
        actor=person(email),
        additional_seconds=seconds,
        reason=reason,
    )


def later(seconds: float) -> datetime:
    """NOW plus some seconds."""
    return NOW + timedelta(seconds=seconds)


def approvals_settings(server: EmbeddedNats, **overrides: object) -> ApprovalsSettings:
    """Settings that connect to `server` as the approvals user, with the test profiles."""
    base = settings_for(server, "approvals", profiles_path=PROFILES_PATH, **overrides)
    return ApprovalsSettings.model_validate(base.model_dump())
