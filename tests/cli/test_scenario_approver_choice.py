"""The scenario driver picks an approver by what a person sees (the email), not the value."""

from __future__ import annotations

import json

import pytest

from accessbot.scenario import _approver_option
from services.intake.domain.approvers import approver_value
from tests.conftest import REPO_ROOT

GOLDEN = REPO_ROOT / "tests" / "intake" / "golden"


def test_an_approver_is_chosen_by_the_email_shown() -> None:
    view = json.loads((GOLDEN / "request_modal_staging.json").read_text(encoding="utf-8"))
    assert _approver_option(view, "bob@example.com") == approver_value("bob@example.com")
    with pytest.raises(LookupError):
        _approver_option(view, "mallory@example.com")
