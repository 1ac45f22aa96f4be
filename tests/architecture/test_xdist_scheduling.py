"""The suite's split over xdist workers keeps modules that share a fixture whole."""

from __future__ import annotations

from pathlib import Path

from tests import xdist_scheduling
from tests.xdist_scheduling import defines_shared_fixture, keeps_together


def test_a_module_scoped_fixture_in_the_module_or_a_conftest_keeps_it_together() -> None:
    assert keeps_together("tests/e2e/test_e2e_auto_approval.py")  # its own harness
    assert keeps_together("tests/console/test_console_browser.py")  # tests/console/conftest.py
    assert not keeps_together("tests/approvals/test_approvals_app.py")


def test_only_wider_scopes_count(tmp_path: Path) -> None:
    shared = tmp_path / "shared.py"
    shared.write_text('@pytest.fixture(scope="module")\ndef h(): ...\n')
    per_test = tmp_path / "per_test.py"
    per_test.write_text(
        '@pytest.fixture(scope="function")\ndef h(): ...\n@pytest.fixture\ndef g(): ...\n'
    )
    assert defines_shared_fixture(shared)
    assert not defines_shared_fixture(per_test)
    assert not defines_shared_fixture(tmp_path / "missing.py")


def test_the_unit_of_work_is_the_module_or_the_test() -> None:
    scheduler = object.__new__(xdist_scheduling.TestsOrSharedModules)
    together = "tests/e2e/test_e2e_auto_approval.py::test_outside_the_window"
    alone = "tests/approvals/test_approvals_app.py::test_x[a]"
    assert scheduler._split_scope(together) == "tests/e2e/test_e2e_auto_approval.py"
    assert scheduler._split_scope(alone) == alone
