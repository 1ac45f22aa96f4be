"""CheckedEmailStr: EmailStr's answers, each address checked once (bounded cache)."""

from __future__ import annotations

import pytest
from pydantic import BaseModel, EmailStr, TypeAdapter, ValidationError

from shared.contracts.emails import CACHED_ADDRESSES, checked_email, normalise_email
from shared.contracts.events import Person

PLAIN = TypeAdapter(EmailStr)
VALID = ["alice@example.com", "Alice@Example.COM", "  bob@example.com ", "zoë@bücher.example"]
# Surrounding whitespace is stripped before the check (the one email rule), so it is no error.
INVALID = ["", "not-an-email", "a@b", "x" * 300 + "@example.com", "a@exa mple.com"]


@pytest.mark.parametrize("value", VALID)
def test_valid_addresses_come_out_as_emailstr_gives_them_normalised(value: str) -> None:
    assert Person(email=value).email == PLAIN.validate_python(normalise_email(value))


@pytest.mark.parametrize("value", INVALID)
def test_invalid_addresses_fail_with_emailstr_s_error(value: str) -> None:
    with pytest.raises(ValidationError) as ours:
        Person(email=value)
    with pytest.raises(ValidationError) as plain:
        PLAIN.validate_python(normalise_email(value))
    mine, theirs = ours.value.errors()[0], plain.value.errors()[0]
    assert (mine["type"], mine["msg"]) == (theirs["type"], theirs["msg"])


def test_an_address_is_checked_once_and_invalid_ones_are_never_remembered() -> None:
    checked_email.cache_clear()
    for _ in range(3):
        Person(email="carol@example.com")
    assert checked_email.cache_info().misses == 1
    assert checked_email.cache_info().hits == 2
    for _ in range(2):
        with pytest.raises(ValidationError):
            Person(email="carol@")
    assert checked_email.cache_info().currsize == 1


def test_the_cache_is_bounded() -> None:
    checked_email.cache_clear()
    for i in range(CACHED_ADDRESSES + 10):
        checked_email(f"user{i}@example.com")
    assert checked_email.cache_info().currsize == CACHED_ADDRESSES


def test_json_schema_is_emailstr_s() -> None:
    class Plain(BaseModel):
        email: EmailStr

    assert Person.model_json_schema()["properties"]["email"]["format"] == "email"
    assert Plain.model_json_schema()["properties"]["email"]["type"] == "string"
    assert (
        Person.model_json_schema()["properties"]["email"]["type"]
        == Plain.model_json_schema()["properties"]["email"]["type"]
    )
