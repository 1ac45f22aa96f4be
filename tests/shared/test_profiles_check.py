"""`accessbot profiles check`: the shipped file passes, broken files name each problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import PROFILES_PATH

pytestmark = pytest.mark.e2e

BASE = """\
admins: [secops@example.com]
defaults: {request_ttl: 1h, max_duration: 24h}
profiles:
  - id: prod
    description: Production
    attribute: custom:prodAccess
    value: true
    max_duration: 8h
    approvers: {emails: [alice@example.com, bob@example.com]}
"""


def run_check(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "accessbot", "profiles", "check", str(path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def test_shipped_profiles_pass_with_a_one_line_summary() -> None:
    result = run_check(PROFILES_PATH)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.strip().splitlines()
    assert len(lines) == 1
    assert "OK: 4 profiles" in lines[0]
    assert lines[0].endswith(", 1 admin"), lines[0]  # counted in the singular, never "1 admins"


BROKEN = {
    "key_prefix": (
        BASE.replace("custom:prodAccess", "prodAccess"),
        ["profile 'prod': attribute: 'prodAccess' must start with 'custom:'"],
    ),
    "key_too_long": (
        BASE.replace("custom:prodAccess", "custom:" + "a" * 44),
        ["profile 'prod': attribute: 'custom:" + "a" * 44 + "' is longer than 50 characters"],
    ),
    "key_chars": (
        BASE.replace("custom:prodAccess", "custom:prod-access"),
        ["profile 'prod': attribute: 'custom:prod-access' may hold only letters, digits"],
    ),
    "value_string_chars": (
        BASE.replace("value: true", "value: 'yes please'"),
        ["profile 'prod': value: string value 'yes please' may hold only letters, digits"],
    ),
    "value_int_range": (
        BASE.replace("value: true", f"value: {2**53}"),
        ["profile 'prod': value: integer value 9007199254740992 is outside 0..2^53-1"],
    ),
    "unknown_approver_field": (
        BASE.replace("{emails: [", "{groups: [x], emails: ["),
        ["profile 'prod': approvers.groups: unknown field"],
    ),
    "auto_hours_day": (
        BASE + "    auto_approve: {max_duration: 1h, requesters: [oncall@example.com], "
        "hours: Mon-Fry 08:00-18:00 Europe/Berlin}\n",
        [
            "profile 'prod': auto_approve.hours: 'Fry' is not a day (use Mon, Tue, Wed, Thu, "
            "Fri, Sat, Sun) (got 'Mon-Fry 08:00-18:00 Europe/Berlin')"
        ],
    ),
    "auto_hours_zone": (
        BASE + "    auto_approve: {max_duration: 1h, requesters: [oncall@example.com], "
        "hours: Mon-Fri 08:00-18:00 Berlin}\n",
        ["profile 'prod': auto_approve.hours: 'Berlin' is not a known IANA time zone"],
    ),
    "auto_hours_not_text": (
        BASE + "    auto_approve: {max_duration: 1h, requesters: [oncall@example.com], hours: 8}\n",
        ["profile 'prod': auto_approve.hours: 8 is not text"],
    ),
    "auto_budget_range": (
        BASE + "    auto_approve: {max_duration: 1h, requesters: [oncall@example.com], "
        "max_per_day: 101}\n",
        ["profile 'prod': auto_approve.max_per_day: 101 must be at most 100"],
    ),
    "auto_guarded_without_approvers": (
        BASE.replace("[alice@example.com, bob@example.com]", "[]")
        + "    auto_approve: {max_duration: 1h, requesters: [oncall@example.com], "
        "max_per_day: 3}\n",
        [
            "profile 'prod': approvers: no emails and no slack_groups, so nobody could "
            "approve outside auto_approve's hours or past its max_per_day"
        ],
    ),
    "remind_after_past_ttl": (
        BASE + "    request_ttl: 30m\n    remind_after: 30m\n",
        [
            "profile 'prod': remind_after: 30m is not shorter than request_ttl 30m, so it "
            "would never happen (the request expires first)"
        ],
    ),
    "escalate_after_past_default_ttl_with_a_bad_field": (
        BASE + "    escalate_after: 2h\n    escalate_to: {emails: [carol@example.com]}\n"
        "    max_reminders: 0\n",
        [
            "profile 'prod': max_reminders: 0 must be at least 1",
            "profile 'prod': max_reminders: set without remind_after, so no reminder is ever sent",
            "profile 'prod': escalate_after: 2h is not shorter than request_ttl 1h, so it "
            "would never happen (the request expires first)",
        ],
    ),
    "escalate_to_nobody": (
        BASE + "    escalate_after: 30m\n    escalate_to: {}\n",
        ["profile 'prod': escalate_to: no emails and no slack_groups, so nobody would be asked"],
    ),
    "bad_duration": (
        BASE.replace("max_duration: 8h", "max_duration: eight hours"),
        ["profile 'prod': max_duration: 'eight hours' is not a duration"],
    ),
    "duplicate_id_and_attribute": (
        BASE + BASE.split("profiles:\n", 1)[1].replace("prodAccess", "PRODACCESS"),
        [
            "profile 'prod': id: duplicate id",
            "profile 'prod': attribute: 'custom:PRODACCESS' is already used by profile 'prod'",
        ],
    ),
    "quorum_too_high": (
        BASE + "    approvals_required: 3\n",
        ["profile 'prod': approvals_required: 3 exceeds the 2 approvers listed"],
    ),
    "bad_enum_and_channel": (
        BASE + "    self_approval: sometimes\n    notify_channels: [general]\n",
        [
            "profile 'prod': self_approval: 'sometimes' is not 'never', 'allowed' or 'confirm'",
            "profile 'prod': notify_channels: 'general' is not a Slack channel id",
        ],
    ),
    "unknown_profile_field": (
        BASE + "    colour: blue\n",
        ["profile 'prod': colour: unknown field"],
    ),
    "not_yaml": ("profiles: [\n", ["line 2, column 1: not valid YAML: while parsing"]),
    "no_profiles": ("admins: []\n", ["profiles: required but missing"]),
    "empty_profiles": ("profiles: []\n", ["profiles: has 0 entries, needs at least 1"]),
    "positions_one_based_with_value": (
        BASE.replace("[secops@example.com]", "[secops@example.com, 'bob@']").replace(
            "bob@example.com]", "bob@example.com, carol]"
        ),
        [
            "admins #2: 'bob@' is not a valid email address",
            "profile 'prod': approvers.emails #3: 'carol' is not a valid email address",
        ],
    ),
    "value_of_no_type": (
        BASE.replace("value: true", "value: [1, 2]"),
        ["profile 'prod': value: [1, 2] is not true, false, a whole number or text"],
    ),
    "zero_duration_shows_the_value": (
        BASE.replace("max_duration: 8h", "max_duration: 0"),
        ["profile 'prod': max_duration: must be longer than zero (got 0)"],
    ),
    "entry_not_a_mapping_by_position": (
        BASE + "  - just-a-name\n",
        ["profile #2: 'just-a-name' is not a mapping of fields"],
    ),
}


@pytest.mark.parametrize("name", sorted(BROKEN))
def test_broken_profiles_fail_naming_file_profile_and_field(tmp_path: Path, name: str) -> None:
    text, expected = BROKEN[name]
    path = tmp_path / f"{name}.yaml"
    path.write_text(text, encoding="utf-8")
    result = run_check(path)
    assert result.returncode == 2, result.stdout
    for message in expected:
        assert f"{path}: {message}" in result.stderr, result.stderr
    assert result.stdout == ""


def test_missing_file_is_a_clear_error(tmp_path: Path) -> None:
    result = run_check(tmp_path / "absent.yaml")
    assert result.returncode == 2
    assert "cannot read" in result.stderr


def test_more_profiles_than_a_slack_list_holds_pass_with_a_note(tmp_path: Path) -> None:
    entries = "".join(
        f"  - id: p{i:03d}\n    description: Profile {i}\n    attribute: custom:a{i:03d}\n"
        "    approvers: {emails: [alice@example.com]}\n"
        for i in range(101)
    )
    path = tmp_path / "profiles.yaml"
    path.write_text(f"profiles:\n{entries}", encoding="utf-8")
    result = run_check(path)
    assert result.returncode == 0, result.stderr
    summary, note = result.stdout.strip().splitlines()
    assert "101 profiles" in summary
    assert "more than 100 profiles" in note
    assert "search" in note
    path.write_text(f"profiles:\n{entries.split('  - id: p100')[0]}", encoding="utf-8")
    assert len(run_check(path).stdout.strip().splitlines()) == 1, "100 are listed: no note"


# Field problems and cross-field ones in the same file: one run names them all.
EVERYTHING_WRONG = """\
profiles:
  - id: prod
    description: ""
    attribute: custom:prodAccess
    max_duration: 8h
    max_total_duration: 2h
    approvals_required: 3
    self_approval: sometimes
    approvers: {emails: [alice@example.com, bob@example.com]}
  - id: prod
    description: Again
    attribute: custom:PRODACCESS
    max_duration: 1h
    auto_approve: {max_duration: 2h, requesters: []}
"""


def test_one_run_reports_field_and_cross_field_problems_together(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(EVERYTHING_WRONG, encoding="utf-8")
    result = run_check(path)
    assert result.returncode == 2
    expected = [
        "profile 'prod': description: must not be empty",
        "profile 'prod': self_approval: 'sometimes' is not",
        "profile 'prod': auto_approve.requesters: has 0 entries, needs at least 1",
        "profile 'prod': approvals_required: 3 exceeds the 2 approvers listed",
        "profile 'prod': max_total_duration: 2h is shorter than max_duration 8h",
        "profile 'prod': id: duplicate id",
        "profile 'prod': attribute: 'custom:PRODACCESS' is already used by profile 'prod'",
        "profile 'prod': auto_approve.max_duration: 2h exceeds max_duration 1h",
    ]
    for message in expected:
        assert f"{path}: {message}" in result.stderr, result.stderr
    assert f"{path}: {len(expected)} problem(s)" in result.stderr


def test_messages_are_our_own_words(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(EVERYTHING_WRONG.replace("profiles:", "admins: [x]\nprofiles:"), "utf-8")
    result = run_check(path)
    for pydantic_wording in ("should", "Input", "Field required", "Value error", "<unicode"):
        assert pydantic_wording not in result.stderr, result.stderr


def test_yaml_errors_name_the_file_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "profiles.yaml"
    path.write_text(BASE + "    approvers: [unclosed\n", encoding="utf-8")
    result = run_check(path)
    assert result.returncode == 2
    first = result.stderr.splitlines()[0]
    assert first.startswith(f"{path}: line "), first
    assert "column" in first
    assert "<unicode string>" not in result.stderr
