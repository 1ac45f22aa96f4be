"""One email form (stripped, lower-case) in every contract, and one limit on every reason."""

from __future__ import annotations

import ast
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from shared.contracts.events import (
    MESSAGE_TYPES,
    DecideRequest,
    Decision,
    GrantRevoked,
    Person,
    RequestDenied,
    SubmitRequest,
)
from shared.contracts.examples import EXAMPLES
from shared.contracts.subjects import Subject
from shared.profiles import ProfilesConfig
from shared.slack_limits import MAX_REASON

ROOT = Path(__file__).resolve().parents[2]
SHOUTED = "  Alice@Example.COM "


def test_a_person_s_email_is_stripped_and_lower_cased() -> None:
    assert Person(email=SHOUTED).email == "alice@example.com"
    assert Person(email=SHOUTED) == Person(email="alice@example.com")


def test_a_chosen_approver_is_stored_lower_cased() -> None:
    example = EXAMPLES[Subject.REQUEST_SUBMITTED]
    assert isinstance(example, SubmitRequest)
    submitted = example.model_copy(update={"approver_email": None})
    data = {**submitted.model_dump(mode="json"), "approver_email": "Bob@Example.com"}
    assert SubmitRequest.model_validate(data).approver_email == "bob@example.com"


def test_an_invalid_email_is_still_refused() -> None:
    with pytest.raises(ValidationError):
        Person(email="  not an email ")


def test_profiles_hold_every_email_lower_cased() -> None:
    config = ProfilesConfig.model_validate(
        {
            "admins": ["SecOps@Example.com"],
            "profiles": [
                {
                    "id": "prod",
                    "description": "Production",
                    "attribute": "custom:prod",
                    "approvers": {"emails": ["Bob@Example.com"]},
                    "auto_approve": {"max_duration": "1h", "requesters": [" OnCall@Example.com"]},
                }
            ],
        }
    )
    [profile] = config.profiles
    assert config.admins == ["secops@example.com"]
    assert profile.approvers.emails == ["bob@example.com"]
    assert profile.auto_approve is not None
    assert profile.auto_approve.requesters == ["oncall@example.com"]


def _reason_fields(schema: dict[str, Any]) -> list[dict[str, Any]]:
    fields = []
    for name, prop in schema.get("properties", {}).items():
        if name == "reason":
            fields.append(prop)
    return fields


@pytest.mark.parametrize("model", list(MESSAGE_TYPES.values()), ids=lambda m: m.__name__)
def test_every_reason_in_every_message_has_the_one_limit(model: type) -> None:
    for prop in _reason_fields(model.model_json_schema()):  # type: ignore[attr-defined]
        limits = {
            branch.get("maxLength") for branch in prop.get("anyOf", [prop]) if "type" in branch
        } - {None}
        assert limits == {MAX_REASON}, model.__name__


def test_an_over_long_reason_is_refused_in_commands_and_events() -> None:
    long_reason = "x" * (MAX_REASON + 1)
    denied = EXAMPLES[Subject.REQUEST_DENIED]
    revoked = EXAMPLES[Subject.GRANT_REVOKED]
    for model, example in ((RequestDenied, denied), (GrantRevoked, revoked)):
        data = {**example.model_dump(mode="json"), "reason": long_reason}
        with pytest.raises(ValidationError):
            model.model_validate(data)
    with pytest.raises(ValidationError):
        DecideRequest(
            request_id=denied.request_id,
            decider=Person(email="bob@example.com"),
            decision=Decision.DENY,
            reason=long_reason,
        )


def _hand_lowered_emails(path: Path) -> list[str]:
    """`<something about an email>.lower()` calls: the rule lives in shared/emails.py."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "lower"
        ):
            text = ast.unparse(node.func.value).lower()
            if any(word in text for word in ("email", "approver", "requester", "actor", "owner")):
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}: {ast.unparse(node)}")
    return found


def test_no_code_lower_cases_an_email_by_hand() -> None:
    sources = [
        p
        for folder in ("services", "shared", "accessbot", "emulators/console")
        for p in (ROOT / folder).rglob("*.py")
        if p != ROOT / "shared" / "contracts" / "emails.py"
    ]
    assert [hit for p in sources for hit in _hand_lowered_emails(p)] == []
