"""One `accessbot dev` stack and one headless Chromium for the console's browser tests.

The stack is started exactly as a person starts it (the CLI, with free ports and a
temporary data dir) and shared by the module's tests: starting it takes most of the time.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from accessbot.natsserver import free_port
from tests.cli.test_cli_dev import _read_until
from tests.conftest import PROFILES_PATH, REPO_ROOT

CHROMIUM = "/usr/bin/chromium"
START_TIMEOUT = 90.0


@pytest.fixture(scope="module")
def console_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    data_dir = tmp_path_factory.mktemp("console-dev")
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("SLACK_", "TAILSCALE_", "NATS_", "HEALTH_"))
    }
    port = free_port()
    args = ["--data-dir", str(data_dir), "--profiles", str(PROFILES_PATH), "--devices", "40"]
    for option in ("--nats-port", "--slack-port", "--tailscale-port"):
        args += [option, str(free_port())]
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "accessbot", "dev", *args, "--console-port", str(port)],
        cwd=REPO_ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        lines = _read_until(proc, "open the sandbox console at", START_TIMEOUT)
        assert f"http://127.0.0.1:{port}/" in lines[-1]
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, console_url: str) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1280, "height": 860}, timezone_id="UTC")
    tab = context.new_page()
    tab.on("dialog", lambda dialog: dialog.accept())  # confirm() of buttons with `confirm`
    tab.goto(console_url)
    yield tab
    context.close()


def screenshot_dir() -> Path:
    """docs/screenshots when ACCESSBOT_SCREENSHOTS=1 (to refresh the README's pictures),
    else a scratch folder: a test run leaves the work tree as it was."""
    if os.environ.get("ACCESSBOT_SCREENSHOTS") == "1":
        return REPO_ROOT / "docs" / "screenshots"
    scratch = Path(tempfile.gettempdir()) / "accessbot-console-screenshots"
    scratch.mkdir(exist_ok=True)
    return scratch
