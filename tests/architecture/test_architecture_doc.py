"""docs/architecture.md names every subject, stream and bucket the code defines, and is the
only design document the repository points to."""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path

import pytest

from shared import provisioning, subjects
from shared.subjects import Bucket, Subject, TimerPurpose
from tests.conftest import REPO_ROOT

ARCHITECTURE = REPO_ROOT / "docs" / "architecture.md"
DOC = ARCHITECTURE.read_text(encoding="utf-8")

# How the document writes a subject's variable parts.
PLACEHOLDERS = {
    "request_id": "<request id>",
    "durable": "<consumer>",
    "stream_seq": "<stream seq>",
    "stream": "<stream>",
}
# Functions of shared/subjects.py that read a subject rather than name one.
NOT_SUBJECTS = {"request_id_from_timer_subject"}
STREAM_SETTINGS = {"max_age_days": 400, "replicas": 1}


def _named(text: str) -> bool:
    return f"`{text}`" in DOC


def _subject_builders() -> list[Callable[..., str]]:
    return [
        fn
        for name, fn in vars(subjects).items()
        if inspect.isfunction(fn)
        and fn.__module__ == subjects.__name__
        and name not in NOT_SUBJECTS
    ]


def _rendered(fn: Callable[..., str]) -> list[str]:
    """The subject as the document writes it (one per timer purpose where it takes one)."""
    params = list(inspect.signature(fn).parameters)
    unknown = [p for p in params if p != "purpose" and p not in PLACEHOLDERS]
    assert not unknown, f"{fn.__name__}: add a placeholder for {unknown} to PLACEHOLDERS"
    purposes: list[TimerPurpose | None] = list(TimerPurpose) if "purpose" in params else [None]
    return [
        fn(**{p: purpose if p == "purpose" else PLACEHOLDERS[p] for p in params})
        for purpose in purposes
    ]


def _streams() -> list[str]:
    """Every stream provisioning configures (each `*_config` taking only stream settings)."""
    names = []
    for name, fn in vars(provisioning).items():
        if not (inspect.isfunction(fn) and name.endswith("_config")):
            continue
        params = set(inspect.signature(fn).parameters)
        if params and params <= set(STREAM_SETTINGS):
            config = fn(**{p: STREAM_SETTINGS[p] for p in params})
            names.append(config.name)
    return names


@pytest.mark.parametrize("subject", [s.value for s in Subject])
def test_every_access_subject_is_documented(subject: str) -> None:
    assert _named(subject), f"docs/architecture.md does not name `{subject}`"


def test_every_subject_family_and_stream_filter_is_documented() -> None:
    expected = [
        subjects.ACCESS_SUBJECTS,
        subjects.TIMERS_SUBJECTS,
        subjects.DEADLETTER_SUBJECTS,
        f"{subjects.MAX_DELIVERIES_ADVISORY}.>",
    ]
    expected += [text for fn in _subject_builders() for text in _rendered(fn)]
    missing = [text for text in expected if not _named(text)]
    assert not missing, f"docs/architecture.md does not name {missing}"


def test_subject_builders_are_found() -> None:
    names = {fn.__name__ for fn in _subject_builders()}
    assert {"timer_schedule_subject", "deadletter_replay_subject"} <= names


def test_every_stream_and_bucket_is_documented() -> None:
    streams = _streams()
    assert {"ACCESS", "TIMERS", "DEADLETTER"} <= set(streams)
    names = [*streams, provisioning.SIEM_COPY, *(b.value for b in Bucket)]
    missing = [name for name in names if not _named(name)]
    assert not missing, f"docs/architecture.md does not name {missing}"


def test_every_timer_purpose_is_documented() -> None:
    missing = [p.value for p in TimerPurpose if not _named(p.value)]
    assert not missing


TEXT_SUFFIXES = {".py", ".md", ".yaml", ".yml", ".toml", ".conf", ".json", ".sh"}


def _skipped(name: str) -> bool:
    return name.startswith(".") or name == "__pycache__" or name.endswith(".egg-info")


def _repository_text_files() -> list[Path]:
    """The repository's own text files (not .venv, .git, caches or build output)."""
    found = []
    for folder, dirs, files in os.walk(REPO_ROOT):
        dirs[:] = [d for d in dirs if not _skipped(d)]
        found += [Path(folder, f) for f in files if Path(f).suffix in TEXT_SUFFIXES]
    return found


def test_nothing_points_to_a_design_document_outside_the_repository() -> None:
    stale = ("DESIGN" + ".md", "design-notes" + ".md")
    files = _repository_text_files()
    assert REPO_ROOT / "README.md" in files
    hits = [
        str(path.relative_to(REPO_ROOT))
        for path in files
        if any(word in path.read_text(encoding="utf-8", errors="replace") for word in stale)
    ]
    assert hits == []


def test_the_readme_links_the_architecture() -> None:
    readme = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
    assert "(docs/architecture.md)" in readme
