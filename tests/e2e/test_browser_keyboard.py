"""The agent inbox driven by the keyboard alone (issue 16 item 8): two web-chat customers write;
Alice opens the shortcut help with "?", accepts the oldest offer with "a" (the reply box takes the
focus), replies, leaves the box with Esc, writes a private note with "n", goes back to a reply with
Alt+R while typing, puts a canned reply with "/", accepts the second offer with Alt+A, moves between
her conversations with "j" and "k", and resolves with "e". Letters typed in the reply box never
trigger a shortcut (the second offer waits while she types an "a")."""

from __future__ import annotations

from typing import Any

from playwright.async_api import Browser, Page, expect

from hub.bootstrap import RunningHub
from tests.e2e.test_browser_flow import login


async def customer_says(browser: Browser, base_url: str, text: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{base_url}/webchat/demo")
    await page.get_by_test_id("hubchat-launcher").click()
    await page.get_by_test_id("hubchat-input").fill(text)
    await page.get_by_test_id("hubchat-send").click()
    await expect(page.get_by_test_id("hubchat-message").filter(has_text=text)).to_have_attribute("data-status", "sent")
    return page


async def test_accept_reply_note_canned_next_and_resolve_by_keyboard(hub: RunningHub, browser: Browser) -> None:
    alice = await login(browser, hub.base_url, "alice")
    errors: list[str] = []
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    keys = alice.keyboard
    offers = alice.get_by_test_id("offers").get_by_test_id("conv-item")
    mine = alice.get_by_test_id("assigned").get_by_test_id("conv-item")
    conversation = alice.get_by_test_id("conversation")
    box = alice.get_by_test_id("composer-input")
    note = alice.get_by_test_id("composer-note-toggle")

    first = await customer_says(browser, hub.base_url, "First customer: my meter shows zero")
    await expect(offers).to_have_count(1)
    second = await customer_says(browser, hub.base_url, "Second customer: a question about my bill")
    await expect(offers).to_have_count(2)
    await alice.locator("body").focus()

    # "?" shows the help listing every shortcut; Esc closes it.
    await keys.press("?")
    help_dialog = alice.get_by_test_id("shortcuts-help")
    await expect(help_dialog).to_be_visible()
    await expect(help_dialog.get_by_test_id("shortcut-row")).to_have_count(7)
    await expect(help_dialog).to_contain_text("Accept the oldest offer")
    await keys.press("Escape")
    await expect(help_dialog).to_be_hidden()

    # "a": the oldest offer is accepted and the reply box has the focus.
    await keys.press("a")
    await expect(offers).to_have_count(1)
    await expect(conversation).to_have_attribute("data-state", "assigned")
    await expect(box).to_be_focused()
    first_id = await conversation.get_attribute("data-conversation-id")
    said = conversation.get_by_test_id("timeline-message")
    await expect(said.filter(has_text="my meter shows zero")).to_have_count(1)
    await keys.type("Thanks, a moment please: I am checking the meter.")
    await expect(offers).to_have_count(1)  # the "a" typed in the box accepted nothing
    await keys.press("Enter")
    await expect(first.get_by_test_id("hubchat-message").filter(has_text="I am checking the meter.")).to_have_count(1)
    await expect(box).to_have_value("")  # sent: the composer empties the box once the hub took it

    # Esc leaves the box; "n" comes back to it as a private note.
    await keys.press("Escape")
    await expect(box).not_to_be_focused()
    await keys.press("n")
    await expect(note).to_be_checked()
    await expect(box).to_be_focused()
    await keys.type("Meter 4471 reads zero since Monday")
    await keys.press("Enter")
    private = said.filter(has_text="Meter 4471 reads zero")
    await expect(private).to_have_attribute("data-private", "true")
    await expect(box).to_have_value("")  # the timeline may show the note before the send's answer empties the box
    await keys.press("Alt+r")  # with Alt, also while typing: back to a reply to the customer
    await expect(note).not_to_be_checked()
    await expect(box).to_be_focused()

    # "/" opens the canned replies in the box; the first matching one goes in, Enter sends it.
    await keys.press("Escape")
    await keys.press("/")
    await expect(box).to_be_focused()
    await expect(box).to_have_value("/")
    await keys.type("greeting")
    await keys.press("Enter")
    await expect(box).to_have_value("Hello, this is Northgrid Power customer service. How can I help you today?")
    await keys.press("Enter")
    await expect(first.get_by_test_id("hubchat-message").filter(has_text="How can I help you today?")).to_have_count(1)
    await expect(box).to_have_value("")
    await expect(first.get_by_test_id("hubchat-message").filter(has_text="Meter 4471")).to_have_count(0)

    # Alt+A from inside the box: the second offer, now open with the focus in its reply box.
    await keys.press("Alt+a")
    await expect(offers).to_have_count(0)
    await expect(mine).to_have_count(2)
    await expect(conversation).not_to_have_attribute("data-conversation-id", first_id or "")
    await expect(box).to_be_focused()
    second_id = await conversation.get_attribute("data-conversation-id")
    await expect(said.filter(has_text="question about my bill")).to_have_count(1)

    # "j" and "k" move between her two conversations (wrapping round).
    await keys.press("Escape")
    await keys.press("j")
    await expect(conversation).to_have_attribute("data-conversation-id", first_id or "")
    await keys.press("k")
    await expect(conversation).to_have_attribute("data-conversation-id", second_id or "")
    await keys.press("j")
    await expect(conversation).to_have_attribute("data-conversation-id", first_id or "")

    # "e" resolves the open one; "j" then opens the one left.
    await keys.press("e")
    await expect(conversation).to_have_attribute("data-state", "resolved")
    await expect(mine).to_have_count(1)
    await keys.press("j")
    await expect(conversation).to_have_attribute("data-conversation-id", second_id or "")
    await expect(conversation).to_have_attribute("data-state", "assigned")
    await expect(second.get_by_test_id("hubchat-message").filter(has_text="How can I help")).to_have_count(0)
    assert errors == []


FOCUS_PROBE = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const shows = (n) => {
        const s = getComputedStyle(n);
        const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
        return outline || s.boxShadow !== 'none';
    };
    // A control inside a frame that rings as a whole (:focus-within): the note switch's label, the composer.
    const frame = el.closest('label, .composer');
    const regions = ['.topbar', '.sidebar', '.pane', '.contact-panel'];
    return {
        what: el.dataset.testid || el.id || el.className || el.tagName,
        region: regions.findIndex((r) => el.closest(r)),
        visible: shows(el) || (frame !== null && shows(frame)),
    };
}"""


async def test_tab_walks_the_inbox_in_reading_order_with_a_visible_focus(hub: RunningHub, browser: Browser) -> None:
    """Tab from the top: top bar, inbox, conversation, contact panel, never back; every stop shows
    where the focus is (an outline or a ring on the control, or on the frame around it)."""
    alice = await login(browser, hub.base_url, "alice")
    await customer_says(browser, hub.base_url, "Tab order: my bill")
    await alice.get_by_test_id("offers").get_by_test_id("offer-accept").click()
    await expect(alice.get_by_test_id("conversation")).to_have_attribute("data-state", "assigned")
    await expect(alice.get_by_test_id("contact-panel")).to_be_visible()
    await alice.locator(".brand").click()  # the sequential focus starts at the top of the page

    stops: list[dict[str, Any]] = []
    for _ in range(80):  # until the focus leaves the page or comes round to the top again
        await alice.keyboard.press("Tab")
        stop: dict[str, Any] | None = await alice.evaluate(FOCUS_PROBE)
        if stop is None or (stops and stop["region"] < stops[-1]["region"]):
            break
        stops.append(stop)
    walked = [s["region"] for s in stops if s["region"] >= 0]
    assert walked == sorted(walked), stops
    assert {0, 1, 2, 3} <= set(walked), stops  # top bar, inbox, conversation and contact panel reached
    assert len(stops) >= 20, stops
    hidden = [s["what"] for s in stops if not s["visible"]]
    assert hidden == [], stops
    for testid in ("agent-status", "composer-input", "composer-note-toggle", "resolve", "composer-send"):
        assert any(s["what"] == testid for s in stops), (testid, stops)
