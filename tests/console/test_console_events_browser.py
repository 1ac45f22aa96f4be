"""The events pane in a real browser: an event opens to its CloudEvents JSON, and a
request id narrows the stream to that request's timeline."""

from __future__ import annotations

import json
import re

import pytest
from playwright.sync_api import Page, expect

from tests.console.test_console_browser import WAIT_MS, request_access

pytestmark = [pytest.mark.e2e, pytest.mark.slow]


def test_an_event_opens_to_its_cloudevent_and_a_request_id_filters_the_timeline(
    page: Page,
) -> None:
    request_access(page, "pixel-8", "Checking the pager app")
    expect(page.locator("#modal")).to_be_hidden(timeout=WAIT_MS)
    request_access(page, "dana-xps", "Rotating the deploy key")
    expect(page.locator("#modal")).to_be_hidden(timeout=WAIT_MS)

    events = page.locator("#events details.event")
    first = events.filter(has_text="request.submitted").last  # the oldest: pixel-8's
    expect(first).to_be_visible(timeout=WAIT_MS)
    first.locator("summary time").click()
    cloudevent = json.loads(first.locator("pre").inner_text())
    assert cloudevent["specversion"] == "1.0"
    assert cloudevent["type"] == "io.accessbot.access.request.submitted"
    assert "Checking the pager app" in json.dumps(cloudevent["data"])
    request_id = cloudevent["subject"]

    expect(events.filter(has_text="approval.requested")).to_have_count(2, timeout=WAIT_MS)
    first.locator("a.request-id").click()
    expect(page.get_by_label("Filter events")).to_have_value(request_id)
    shown = page.locator("#events details.event:not([hidden])")
    expect(shown).to_have_count(2)  # submitted, approval requested: this request only
    for text in shown.all_inner_texts():
        assert re.search(request_id, text), text
