"""Every golden payload (tests/*/golden) is something Slack would accept.

Golden files pin what people see; this checks each one with the Slack emulator's
Block Kit validator (Slack's documented limits plus slack_sdk's model checks), so a
golden file can never pin a message or view that Slack would refuse.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from emulators.slack.blockkit import (
    validate_message_blocks,
    validate_options_response,
    validate_view,
)
from shared.slack_limits import MESSAGE_TEXT

GOLDEN_FILES = sorted(Path(__file__).parent.glob("*/golden/*.json"))


def _payloads(document: Any, where: str) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """(kind, where, payload) for every message, view and options answer in a document."""
    if isinstance(document, dict):
        if document.get("type") == "home" and "blocks" in document:  # the App Home tab
            yield "view", where, document
            return
        if "callback_id" in document and "blocks" in document:
            yield "view", where, {"type": "modal", **document}
            return
        if "options" in document or "option_groups" in document:
            yield "options", where, document
            return
        if "blocks" in document and "text" in document:
            yield "message", where, document
            return
        for key, value in document.items():
            yield from _payloads(value, f"{where}/{key}")
    elif isinstance(document, list):
        for index, value in enumerate(document):
            yield from _payloads(value, f"{where}/{index}")


def _errors(kind: str, payload: dict[str, Any]) -> list[str]:
    if kind == "view":
        return validate_view(payload)
    if kind == "options":
        return validate_options_response(payload)
    errors = validate_message_blocks(payload["blocks"])
    if not payload["text"] or len(payload["text"]) > MESSAGE_TEXT:
        errors.append(f"text of {len(payload['text'] or '')} characters")
    return errors


def test_there_are_golden_files_of_both_services() -> None:
    services = {path.parent.parent.name for path in GOLDEN_FILES}
    assert {"intake", "notifier"} <= services


@pytest.mark.parametrize("path", GOLDEN_FILES, ids=lambda p: f"{p.parent.parent.name}/{p.name}")
def test_every_golden_payload_passes_block_kit_validation(path: Path) -> None:
    document = json.loads(path.read_text(encoding="utf-8"))
    found = list(_payloads(document, path.name))
    assert found, f"{path} holds no message, view or options answer"
    problems = {where: _errors(kind, payload) for kind, where, payload in found}
    assert {where: errors for where, errors in problems.items() if errors} == {}
