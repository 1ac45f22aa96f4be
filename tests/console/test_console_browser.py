"""The sandbox console in a real browser, by clicks only, against a real `accessbot dev`.

Each flow uses its own device of Dana's, so the requests of one test never answer another's.
"""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Locator, Page, expect

from tests.console.conftest import screenshot_dir

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

DANA, ALICE = "U_DANA", "U_ALICE"
REASON_OF_DEMO = "Demo: investigating INC-4211"
WAIT_MS = 30_000


def be(page: Page, user_id: str) -> None:
    page.get_by_label("You are").select_option(user_id)


def request_access(page: Page, device: str, reason: str, *, profile: str = "prod") -> None:
    """Dana presses the shortcut and fills in the form as a person would."""
    be(page, DANA)
    page.get_by_role("button", name="Request access").click()
    modal = page.locator("#modal")
    modal.get_by_label("Access").select_option(profile)
    search = modal.get_by_label("Device")
    search.fill(device)
    modal.locator("li.bk-option", has_text=device).first.click()
    modal.get_by_label("Duration").select_option(label="15 minutes")
    modal.get_by_label("Reason").fill(reason)
    modal.get_by_role("button", name="Request").click()


def message_about(page: Page, where: str, device: str) -> Locator:
    return page.locator(f"{where} article.msg", has_text=device).last


def test_request_approve_see_the_attribute_then_revoke(page: Page) -> None:
    request_access(page, "dana-xps", "Investigating INC-4211")
    expect(page.locator("#modal")).to_be_hidden(timeout=WAIT_MS)
    expect(message_about(page, "#dms", "dana-xps")).to_contain_text("INC-4211", timeout=WAIT_MS)

    be(page, ALICE)
    ask = message_about(page, "#dms", "dana-xps")
    ask.locator("button[data-action-id=approve]").click(timeout=WAIT_MS)
    expect(ask).to_contain_text("Approved by", timeout=WAIT_MS)

    be(page, DANA)
    row = page.locator("#tailnet tr.device", has_text="dana-xps")
    expect(row.locator("li.attribute[data-key='custom:prodAccess']")).to_be_visible(timeout=WAIT_MS)
    expect(row.locator(".countdown")).to_have_text(re.compile(r"in 1[0-5]m \d\ds"))
    expect(page.locator("#events")).to_contain_text("grant.applied", timeout=WAIT_MS)
    # the stream is read: no problem shown, not even one seen while the services started
    expect(page.locator("section.side .bk-error:visible")).to_have_count(0)
    # the admin login dev hands the console works: the list is read, and empty
    expect(page.locator("#deadletters")).to_have_text("None.")
    page.screenshot(path=screenshot_dir() / "console-granted.png")

    message_about(page, "#dms", "dana-xps").locator("button[data-action-id=revoke]").click(
        timeout=WAIT_MS
    )
    page.locator("#modal").get_by_role("button", name=re.compile("Revoke")).click()
    expect(row.locator("li.attribute")).to_have_count(0, timeout=WAIT_MS)
    expect(message_about(page, "#dms", "dana-xps")).to_contain_text("revoked", timeout=WAIT_MS)


def test_a_validation_error_is_shown_inline(page: Page) -> None:
    request_access(page, "danas-ipad-1", "   ")
    error = page.locator("#modal .bk-input[data-block-id=reason] .bk-error")
    expect(error).to_have_text("Say why you need Production.", timeout=WAIT_MS)
    page.screenshot(path=screenshot_dir() / "console-validation.png")
    page.locator("#modal .bk-close").click()
    expect(page.locator("#modal")).to_be_hidden(timeout=WAIT_MS)


def test_an_approver_denies_with_a_reason(page: Page) -> None:
    request_access(page, "danas-mac-mini", "Need to look at the prod logs")
    expect(page.locator("#modal")).to_be_hidden(timeout=WAIT_MS)
    be(page, ALICE)
    message_about(page, "#dms", "danas-mac-mini").locator("button[data-action-id=deny]").click(
        timeout=WAIT_MS
    )
    modal = page.locator("#modal")
    modal.get_by_label(re.compile("reason", re.IGNORECASE)).fill("Use the read replica instead")
    modal.locator(".bk-submit").click()
    expect(modal).to_be_hidden(timeout=WAIT_MS)
    be(page, DANA)
    denied = message_about(page, "#dms", "danas-mac-mini")
    expect(denied).to_contain_text("Use the read replica instead", timeout=WAIT_MS)
    expect(denied).to_contain_text("denied", ignore_case=True)


def test_a_tailscale_fault_switch_ends_in_the_failure_notice(page: Page) -> None:
    page.get_by_text("Fault switches").click()
    page.get_by_role("button", name="Tailscale: next attribute call 400").click()
    expect(page.locator("#notice")).to_contain_text("Armed")
    page.get_by_text("Fault switches").click()
    request_access(page, "danas-macbook-air", "Deploy hotfix")
    expect(page.locator("#modal")).to_be_hidden(timeout=WAIT_MS)
    be(page, ALICE)
    message_about(page, "#dms", "danas-macbook-air").locator(
        "button[data-action-id=approve]"
    ).click(timeout=WAIT_MS)
    be(page, DANA)
    notice = message_about(page, "#dms", "danas-macbook-air")
    expect(notice).to_contain_text("Access could not be applied", timeout=WAIT_MS)
    expect(notice).to_contain_text("Tailscale refused the change")


def test_play_the_demo(page: Page) -> None:
    page.get_by_role("button", name="Play the demo").click()
    expect(page.locator("#notice")).to_contain_text("Approved", timeout=WAIT_MS)
    expect(page.get_by_label("You are")).to_have_value(DANA)
    granted = page.locator("#tailnet tr.device.granted li.attribute[data-key='custom:prodAccess']")
    expect(granted.first).to_be_visible(timeout=WAIT_MS)
    expect(message_about(page, "#dms", REASON_OF_DEMO)).to_contain_text(
        "Access granted", timeout=WAIT_MS
    )


def home_item(page: Page, section: str, device: str) -> Locator:
    """One request's line in a section of the Home tab (block ids `<section>:<id>:text`)."""
    return page.locator(f'#home .bk-section[data-block-id^="{section}:"]', has_text=device)


def home_button(item: Locator, action_id: str) -> Locator:
    """The button of that request's actions block (`<section>:<id>:actions`)."""
    text_block = str(item.get_attribute("data-block-id"))
    actions = text_block.removesuffix(":text") + ":actions"
    return item.page.locator(
        f'#home .bk-actions[data-block-id="{actions}"] button[data-action-id={action_id}]'
    )


def test_the_home_tab_decide_and_see_the_access_there(page: Page) -> None:
    request_access(page, "danas-macbook-pro", "Home tab: INC-4300")
    expect(page.locator("#modal")).to_be_hidden(timeout=WAIT_MS)

    be(page, ALICE)
    page.get_by_role("tab", name="Home").click()  # Slack sends app_home_opened
    expect(page.locator("#dms")).to_be_hidden()
    waiting = home_item(page, "home_decide", "danas-macbook-pro")
    expect(waiting).to_contain_text("Home tab: INC-4300", timeout=WAIT_MS)
    page.screenshot(path=screenshot_dir() / "console-home.png")
    home_button(waiting, "approve").click()
    # the notifier republishes Alice's Home; the console redraws it
    expect(waiting).to_have_count(0, timeout=WAIT_MS)

    be(page, DANA)  # the Home tab stays open: opening it for Dana too
    expect(page.get_by_role("tab", name="Home")).to_have_attribute("aria-selected", "true")
    active = home_item(page, "home_active", "danas-macbook-pro")
    expect(active).to_contain_text("until", timeout=WAIT_MS)

    home_button(active, "extend").click()  # each button's modal opens as from the DM
    expect(page.locator("#modal .bk-view")).to_contain_text("Extend", timeout=WAIT_MS)
    page.locator("#modal .bk-close").click()
    expect(page.locator("#modal")).to_be_hidden(timeout=WAIT_MS)
    home_button(active, "revoke").click()
    page.locator("#modal").get_by_role("button", name=re.compile("Revoke")).click()
    expect(active).to_have_count(0, timeout=WAIT_MS)
    expect(home_item(page, "home_history", "danas-macbook-pro")).to_contain_text(
        "Revoked", timeout=WAIT_MS
    )

    page.locator("#home button[data-action-id=home_request]").click()
    expect(page.locator("#modal").get_by_label("Access")).to_be_visible(timeout=WAIT_MS)
    page.locator("#modal .bk-close").click()
    expect(page.locator("#modal")).to_be_hidden(timeout=WAIT_MS)

    page.get_by_role("tab", name="Messages").click()
    expect(message_about(page, "#dms", "danas-macbook-pro")).to_contain_text("revoked")


def test_the_home_tab_cancel_then_request_again(page: Page) -> None:
    request_access(page, "pixel-8", "Home tab: cancel me")
    expect(page.locator("#modal")).to_be_hidden(timeout=WAIT_MS)
    page.get_by_role("tab", name="Home").click()
    pending = home_item(page, "home_pending", "pixel-8")
    expect(pending).to_contain_text("waiting for", timeout=WAIT_MS)
    home_button(pending, "cancel").click()
    expect(pending).to_have_count(0, timeout=WAIT_MS)
    ended = home_item(page, "home_history", "pixel-8")
    expect(ended).to_contain_text("Cancelled", timeout=WAIT_MS)
    home_button(ended, "request_again").click()  # the form, filled in as before
    expect(page.locator("#modal").get_by_label("Reason")).to_have_value(
        "Home tab: cancel me", timeout=WAIT_MS
    )
    page.locator("#modal .bk-close").click()
    expect(page.locator("#modal")).to_be_hidden(timeout=WAIT_MS)
