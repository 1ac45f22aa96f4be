"""Every test has exactly one tier, derived from what it uses and checked by what it does.

Each case runs a small pytest session in this process (pytester) with the tiers plugin
(tests/tiers.py) as the repository's conftest loads it.
"""

from __future__ import annotations

import pytest

from tests import tiers

CONFTEST = """
import pytest
from tests import tiers

tier_is_true = tiers.tier_is_true

@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items):
    tiers.assign_tiers(items)

@pytest.fixture
def nats_server():
    return "a stand-in: only the fixture's name is a fact at collection"
"""

INI = """
[pytest]
addopts = --strict-markers -p no:cacheprovider -p no:hypothesispytest
asyncio_default_fixture_loop_scope = function
markers =
    unit: u
    handlers: h
    emulator: em
    nats: n
    e2e: e
"""


@pytest.fixture
def session(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeconftest(CONFTEST)
    pytester.makeini(INI)
    return pytester


def test_tiers_follow_fixtures_folders_and_markers(session: pytest.Pytester) -> None:
    session.makepyfile(
        test_mixed="""
        import pytest

        def test_pure():
            assert 1 + 1 == 2

        def test_with_a_server(nats_server):
            assert nats_server

        @pytest.mark.e2e
        def test_marked_higher(nats_server):
            assert nats_server
        """
    )
    fakes = session.mkpydir("svc")
    (fakes / "fakes.py").write_text(
        "import pytest\n\nclass FakeStore(dict):\n    pass\n\n"
        "@pytest.fixture\ndef store():\n    return FakeStore()\n",
        encoding="utf-8",
    )
    session.makepyfile(
        test_handlers="""
        from svc.fakes import store

        def test_handler(store):
            assert store == {}
        """,
        test_fake_class="""
        from svc.fakes import FakeStore

        def test_with_a_fake():
            assert FakeStore() == {}
        """,
    )
    session.syspathinsert()

    items, _ = session.inline_genitems()
    assert {item.name: tiers.tier_of(item) for item in items} == {
        "test_pure": "unit",
        "test_with_a_server": "nats",
        "test_marked_higher": "e2e",
        "test_handler": "handlers",
        "test_with_a_fake": "handlers",
    }


def test_a_marker_below_what_the_fixtures_show_stops_collection(session: pytest.Pytester) -> None:
    session.makepyfile(
        test_lying="""
        import pytest

        @pytest.mark.unit
        def test_claims_to_be_pure(nats_server):
            assert nats_server
        """
    )
    result = session.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_claims_to_be_pure: marked 'unit'*makes it 'nats'*"])


def test_two_tiers_stop_collection(session: pytest.Pytester) -> None:
    session.makepyfile(
        test_two="""
        import pytest

        @pytest.mark.e2e
        @pytest.mark.nats
        def test_both():
            pass
        """
    )
    result = session.runpytest_inprocess()
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*test_both: more than one tier*"])


def test_a_unit_test_that_starts_a_process_or_opens_a_socket_fails(
    session: pytest.Pytester,
) -> None:
    session.makepyfile(
        test_impure="""
        import socket
        import subprocess
        import pytest

        def test_spawns():
            subprocess.run(["true"], check=True)

        def test_listens():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))

        @pytest.mark.e2e
        def test_spawns_as_e2e():
            subprocess.run(["true"], check=True)

        @pytest.mark.emulator
        def test_listens_as_emulator():
            with socket.socket() as s:
                s.bind(("127.0.0.1", 0))
        """
    )
    result = session.runpytest_inprocess()
    result.assert_outcomes(passed=4, errors=2)  # an error at teardown follows a pass
    result.stdout.fnmatch_lines(
        [
            "*tier 'unit': started a child process (true): its tier is e2e*",
            "*tier 'unit': opened a network socket*it is not unit*",
        ]
    )


def test_a_nats_test_may_start_nats_server_but_nothing_else(session: pytest.Pytester) -> None:
    session.makepyfile(
        test_server="""
        import subprocess
        import pytest

        @pytest.mark.nats
        def test_other_process():
            subprocess.run(["true"], check=True)
        """
    )
    result = session.runpytest_inprocess()
    result.assert_outcomes(passed=1, errors=1)
    result.stdout.fnmatch_lines(["*tier 'nats': started a child process (true)*"])
