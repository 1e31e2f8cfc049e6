"""The agent inbox at tablet width (800 x 1024, a portrait tablet): the inbox, the conversation and
the contact panel reflow (the panel moves under the conversation), nothing runs off the side, and
the main actions are in view and take a click: accept, reply, note, transfer, wrap-up, resolve,
the status, the page links, the shortcut help. axe-core finds nothing serious at that width either."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Locator, expect

from hub.bootstrap import RunningHub
from tests.e2e.axe import blocking, new_page
from tests.e2e.test_browser_keyboard import customer_says

TABLET = {"width": 800, "height": 1024}


async def assert_inside(what: Locator, width: int) -> None:
    await expect(what).to_be_in_viewport()
    box = await what.bounding_box()
    assert box is not None
    assert box["x"] >= 0 and box["x"] + box["width"] <= width, box


async def test_inbox_conversation_and_contact_panel_at_800_px(hub: RunningHub, browser: Browser,
                                                              artifacts: Path) -> None:
    alice = await new_page(browser, viewport={"width": TABLET["width"], "height": TABLET["height"]})
    errors: list[str] = []
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    await alice.goto(f"{hub.base_url}/console/login")
    await alice.get_by_test_id("login-username").fill("alice")
    await alice.get_by_test_id("login-password").fill("northgrid-demo")
    await alice.get_by_test_id("login-submit").click()
    await expect(alice.get_by_test_id("agent-name")).not_to_be_empty()
    await alice.get_by_test_id("agent-status").select_option("available")
    for control in ("agent-status", "logout", "shortcuts-button"):
        await assert_inside(alice.get_by_test_id(control), TABLET["width"])
    await assert_inside(alice.get_by_role("link", name="Inbox"), TABLET["width"])

    customer = await customer_says(browser, hub.base_url, "Tablet test: my power is off")
    accept = alice.get_by_test_id("offers").get_by_test_id("offer-accept")
    await assert_inside(accept, TABLET["width"])
    await accept.click()
    conversation = alice.get_by_test_id("conversation")
    await expect(conversation).to_have_attribute("data-state", "assigned")
    panel = alice.get_by_test_id("contact-panel")
    await expect(panel).to_be_visible()
    for control in ("composer-input", "composer-send", "resolve", "transfer-select", "transfer-submit",
                    "wrapup-select", "wrapup-submit", "canned-select"):
        await assert_inside(alice.get_by_test_id(control), TABLET["width"])
    await assert_inside(panel, TABLET["width"])
    # The panel sits under the conversation, not squeezed beside it.
    pane = await alice.locator(".pane").bounding_box()
    beside = await panel.bounding_box()
    assert pane is not None and beside is not None
    assert beside["y"] >= pane["y"] + pane["height"] - 1 and pane["width"] >= 500, (pane, beside)
    overflow = await alice.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0

    await alice.get_by_test_id("composer-input").fill("Looking into it from my tablet.")
    await alice.get_by_test_id("composer-send").click()
    await expect(customer.get_by_test_id("hubchat-message").filter(has_text="from my tablet")).to_have_count(1)
    await alice.locator(".mode-toggle").click()  # the Reply/Note switch
    await expect(alice.get_by_test_id("composer-note-toggle")).to_be_checked()
    await alice.get_by_test_id("composer-input").fill("Checked the outage map")
    await alice.get_by_test_id("composer-send").click()
    await expect(conversation.get_by_test_id("timeline-message").filter(has_text="outage map")).to_have_attribute(
        "data-private", "true")
    assert await blocking(alice) == []
    await alice.screenshot(path=str(artifacts / "tablet-800.png"))
    await alice.get_by_test_id("resolve").click()
    await expect(conversation).to_have_attribute("data-state", "resolved")
    assert errors == []
