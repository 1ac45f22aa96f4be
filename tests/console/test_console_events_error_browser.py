"""The events pane shows its feed's problem while it lasts, in a real browser: a page
opened while the services were still creating ACCESS must not keep saying so."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiohttp import web
from playwright.sync_api import Browser, expect

from accessbot.natsserver import free_port
from emulators.console.events import NOT_YET, EventFeed
from emulators.console.server import Console, Upstreams, make_app
from shared.profiles import load_profiles
from tests.conftest import PROFILES_PATH

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

WAIT_MS = 10_000
EVENT = {
    "id": "01M94QTXJFVG6RGP6Y9YCMSP64",
    "type": "io.accessbot.access.request.submitted",
    "time": "2026-12-06T04:00:00Z",
    "subject": "01M94QTXJFVG6RGP6Y9YCMSP65",
}


@pytest.fixture
def console(tmp_path: Path) -> Iterator[tuple[str, EventFeed]]:
    """A console whose Slack emulator is not there (its pane says so), without a tailnet,
    and whose feed the test sets, served from a thread of its own."""
    feed = EventFeed()
    gone = f"http://127.0.0.1:{free_port()}"
    console = Console(Upstreams(gone, None), load_profiles(PROFILES_PATH), feed)
    # the people list as the Slack emulator would give it, fresh: nobody is asked
    console._workspace = {"users": [{"id": "U_DANA", "name": "dana"}], "channels": []}
    console._workspace_at = time.monotonic()
    app = make_app(console)
    port = free_port()
    loop = asyncio.new_event_loop()
    runner = web.AppRunner(app)
    started = threading.Event()

    def serve() -> None:  # the browser's sync API holds this thread's loop: another thread
        asyncio.set_event_loop(loop)
        loop.run_until_complete(runner.setup())
        loop.run_until_complete(web.TCPSite(runner, "127.0.0.1", port).start())
        started.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    assert started.wait(timeout=10), "the console did not start"
    try:
        yield f"http://127.0.0.1:{port}/", feed
    finally:
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=10)


def test_the_problem_shows_while_it_lasts_and_goes_once_events_are_read(
    browser: Browser, console: tuple[str, EventFeed]
) -> None:
    url, feed = console
    feed.error = NOT_YET
    page = browser.new_page()
    try:
        page.goto(url)
        problem = page.locator("#events-error")
        expect(problem).to_have_text(NOT_YET, timeout=WAIT_MS)
        expect(problem).to_be_visible()

        feed.error = None
        feed.add(EVENT)
        expect(page.locator("#events details.event")).to_have_count(1, timeout=WAIT_MS)
        expect(problem).to_be_hidden(timeout=WAIT_MS)
        expect(page.locator("#events .bk-error")).to_have_count(0)
    finally:
        page.close()
