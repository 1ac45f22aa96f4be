"""The parser loads no more than argparse needs: `accessbot --help`, a subcommand's
`--help` and a mistyped option answer at once, without loading nats-py, FastStream,
aiohttp, the emulators or the harness (each command imports those when it runs)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from accessbot.natsserver import env_without_secrets

pytestmark = pytest.mark.e2e  # the CLI runs as a child process, as a person runs it

HEAVY = ("nats", "faststream", "aiohttp", "slack_sdk", "emulators", "services", "pydantic")
PROBE = """
import json, sys
from accessbot.cli import build_parser
parser = build_parser()
try:
    parser.parse_args(sys.argv[1:])
except SystemExit:
    pass
heavy = {m.split(".")[0] for m in sys.modules} & set(json.loads(sys.stdin.read()))
heavy |= {m for m in sys.modules if m in ("accessbot.harness", "accessbot.sandbox")}
print(json.dumps(sorted(heavy)))
"""


@pytest.mark.parametrize(
    "words",
    [
        ["--help"],
        ["audit", "export", "--help"],
        ["deadletter", "replay", "--help"],
        ["demo", "--duration", "soon"],
        ["replicas", "--set", "0"],
        ["dev", "--help"],
    ],
)
def test_parsing_loads_none_of_the_heavy_modules(words: list[str]) -> None:
    done = subprocess.run(  # noqa: S603 - our own code
        [sys.executable, "-c", PROBE, *words],
        input=json.dumps(HEAVY),
        env=env_without_secrets(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout.splitlines()[-1]) == [], done.stdout


def test_a_command_still_loads_what_it_needs_when_it_runs() -> None:
    done = subprocess.run(
        [sys.executable, "-m", "accessbot", "replicas", "--set", "9"],
        check=False,
        env=env_without_secrets(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert done.stderr == "accessbot replicas: --set takes 1 to 5\n"
