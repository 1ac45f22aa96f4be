"""The composition root builds without side effects and stops on an invalid profiles file."""

from __future__ import annotations

from pathlib import Path

import pytest

from services.approvals.bootstrap import build
from services.approvals.settings import ApprovalsSettings
from shared.profiles import ProfilesError
from tests.approvals.factories import PROFILES_PATH


def test_build_wires_the_service_without_connecting() -> None:
    service = build(ApprovalsSettings(profiles_path=PROFILES_PATH, nats_url="nats://127.0.0.1:1"))
    assert service.name == "approvals"
    assert set(service.ready_checks) == {"requests"}
    assert len(service.on_connected) == 1
    # ten consumers, each with its dead-letter replay consumer, and one advisory consumer
    assert len(service.broker.subscribers) == 2 * 10 + 1


def test_an_invalid_profiles_file_stops_the_build(tmp_path: Path) -> None:
    bad = tmp_path / "profiles.yaml"
    bad.write_text("profiles:\n  - id: Bad Id\n", encoding="utf-8")
    with pytest.raises(ProfilesError) as failure:
        build(ApprovalsSettings(profiles_path=bad))
    assert str(bad) in str(failure.value)
