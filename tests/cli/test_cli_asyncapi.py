"""The AsyncAPI document is generated from the contracts and the committed copy is fresh."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import pytest
import yaml

from shared.asyncapi import build_document, render_yaml
from shared.permissions import publishers_of
from shared.subjects import Subject
from tests.conftest import REPO_ROOT


def test_committed_asyncapi_is_not_stale() -> None:
    committed = (REPO_ROOT / "docs" / "asyncapi.yaml").read_text(encoding="utf-8")
    assert committed == render_yaml(), "run: accessbot asyncapi --output docs/asyncapi.yaml"


@pytest.mark.e2e
def test_command_prints_the_document() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "accessbot", "asyncapi"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert yaml.safe_load(result.stdout) == build_document()


def _resolve(doc: dict[str, Any], ref: str) -> Any:
    node: Any = doc
    for part in ref.removeprefix("#/").split("/"):
        node = node[part]
    return node


def test_every_subject_has_a_channel_message_and_resolvable_refs() -> None:
    doc = build_document()
    assert doc["asyncapi"] == "3.0.0"
    addresses = {c["address"] for c in doc["channels"].values()}
    assert addresses == {s.value for s in Subject}
    refs: list[str] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key == "$ref":
                    refs.append(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(doc)
    assert refs
    for ref in refs:
        assert _resolve(doc, ref) is not None, ref
    sends = [op for op in doc["operations"].values() if op["action"] == "send"]
    assert len(sends) == sum(len(publishers_of(s)) for s in Subject)
    assert {op["channel"]["$ref"] for op in sends} == {
        f"#/channels/{s.value.replace('.', '_')}" for s in Subject
    }
