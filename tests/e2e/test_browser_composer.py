"""The agent's composer in a real browser (issue 16, item 4): "/" opens the canned replies, a search
in Chinese narrows them, arrows and Enter take one with its variables filled from the conversation
(the contact's name and account number, the agent's name, the conversation's id); Esc closes the
menu; an emoji goes in at the caret; the reply box has the focus after the offer is accepted; links
in the customer's and the agent's messages are clickable on both sides, and only safe ones."""

from __future__ import annotations

import re

from playwright.async_api import Browser, Page, expect

from hub.bootstrap import RunningHub
from tests.clients import AgentClient
from tests.e2e.test_browser_flow import login

CANNED_TEXT = ("Dear {{contact.name}}, {{agent.name}} here. Account {{contact.account_number}}, "
               "reference {{conversation.id}}.")


async def widget_says(browser: Browser, base_url: str, text: str) -> Page:
    customer = await (await browser.new_context()).new_page()
    await customer.goto(f"{base_url}/webchat/demo")
    await customer.get_by_test_id("hubchat-launcher").click()
    await customer.get_by_test_id("hubchat-input").fill(text)
    await customer.get_by_test_id("hubchat-send").click()
    await expect(customer.get_by_test_id("hubchat-message").first).to_have_attribute("data-status", "sent")
    return customer


async def test_slash_canned_reply_emoji_focus_and_links(hub: RunningHub, browser: Browser) -> None:
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        await sara.call("POST", "/api/canned_replies", {"title": "账单说明 Bill explained", "text": CANNED_TEXT},
                        expect=201)
        await sara.call("POST", "/api/canned_replies", {"title": "停电通知 Outage", "text": "抢修中，请稍候。"},  # noqa: RUF001
                        expect=201)
    finally:
        await sara.close()
    alice = await login(browser, hub.base_url, "alice")
    errors: list[str] = []
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    health = f"{hub.base_url}/healthz"
    customer = await widget_says(browser, hub.base_url,
                                 f"My bill: {health}?from=customer. Not this: javascript:alert(1)")
    customer.on("pageerror", lambda exc: errors.append(str(exc)))

    await alice.get_by_test_id("offers").get_by_test_id("conv-item").get_by_test_id("offer-accept").click()
    item = alice.get_by_test_id("assigned").get_by_test_id("conv-item")
    await expect(item).to_have_count(1)
    conversation_id = await item.get_attribute("data-conversation-id")
    assert conversation_id
    box = alice.get_by_test_id("composer-input")
    await expect(box).to_be_enabled()
    await expect(box).to_be_focused()  # focus in the reply box after accepting the offer

    # The customer's link is a real link in the console; the javascript: one stays text.
    customer_message = alice.get_by_test_id("timeline-message").filter(has_text="My bill")
    link = customer_message.get_by_test_id("msg-link")
    await expect(link).to_have_count(1)
    await expect(link).to_have_attribute("href", f"{health}?from=customer")
    await expect(link).to_have_attribute("target", "_blank")
    await expect(link).to_have_attribute("rel", "noopener noreferrer")
    await expect(customer_message).to_contain_text("javascript:alert(1)")
    async with alice.context.expect_page() as opened:
        await link.click()
    tab = await opened.value
    await tab.wait_for_load_state()
    assert tab.url == f"{health}?from=customer"
    assert await tab.evaluate("window.opener") is None
    await tab.close()

    # The contact's account number is known; "/" opens the menu, a Chinese word narrows it.
    summary = (await alice.request.get(f"{hub.base_url}/api/conversations/{conversation_id}"))
    contact_id = (await summary.json())["conversation"]["contact"]["id"]
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        await sara.call("PATCH", f"/api/contacts/{contact_id}/attributes", {"account_number": "3100456789"})
    finally:
        await sara.close()
    await box.focus()
    await box.press_sequentially("/")
    menu = alice.get_by_test_id("canned-menu")
    await expect(menu).to_be_visible()
    await expect(menu).to_have_attribute("role", "listbox")
    await expect(menu.get_by_role("option")).to_have_count(8)  # the demo's seven and these two, at most 8
    await box.press_sequentially("账单")
    options = menu.get_by_role("option")
    await expect(options).to_have_count(1)
    await expect(options.first).to_contain_text("Bill explained")
    await expect(options.first).to_have_attribute("aria-selected", "true")
    await expect(box).to_have_attribute("aria-activedescendant", await options.first.get_attribute("id") or "")
    await box.press("Enter")  # takes the reply, does not send
    await expect(menu).to_be_hidden()
    await expect(box).to_have_value(re.compile(r"^Dear "))  # once the contact's attributes are read
    filled = await box.input_value()
    assert filled.startswith("Dear ") and "{{" not in filled, filled
    assert f"Alice Wang here. Account 3100456789, reference {conversation_id}." in filled, filled
    await expect(box).to_be_focused()
    assert await alice.get_by_test_id("timeline-message").filter(has_text="Alice Wang here").count() == 0

    # Arrows move the selection; Esc closes without changing the text.
    await box.fill("")
    await box.press_sequentially("/")
    await box.press("ArrowDown")
    await expect(menu.get_by_role("option").nth(1)).to_have_attribute("aria-selected", "true")
    await expect(menu.get_by_role("option").first).to_have_attribute("aria-selected", "false")
    await box.press("ArrowUp")
    await box.press("ArrowUp")  # wraps round to the last
    await expect(menu.get_by_role("option").last).to_have_attribute("aria-selected", "true")
    await box.press("Escape")
    await expect(menu).to_be_hidden()
    await expect(box).to_have_value("/")
    await box.press_sequentially("zzz")
    await expect(alice.get_by_test_id("canned-empty")).to_be_visible()
    await box.press("Enter")  # nothing matches: nothing is sent either
    await expect(box).to_have_value("/zzz")

    # An emoji at the caret, then a reply with a link.
    await box.fill("Thanks ")
    await alice.get_by_test_id("emoji-toggle").click()
    await alice.get_by_test_id("emoji-grid").get_by_role("button", name="thumbs up").click()
    await expect(box).to_have_value("Thanks 👍")
    await expect(alice.get_by_test_id("emoji-grid")).to_be_hidden()
    await box.fill(f"Your bill is at {health}?from=agent.")
    await box.press("Enter")
    reply = customer.get_by_test_id("hubchat-message").filter(has_text="Your bill is at")
    widget_link = reply.get_by_test_id("hubchat-link")
    await expect(widget_link).to_have_attribute("href", f"{health}?from=agent")
    await expect(widget_link).to_have_attribute("rel", "noopener noreferrer")
    await expect(widget_link).to_have_attribute("target", "_blank")
    await expect(reply).to_contain_text(f"{health}?from=agent.")
    async with customer.context.expect_page() as opened:
        await widget_link.click()
    tab = await opened.value
    await tab.wait_for_load_state()
    assert tab.url == f"{health}?from=agent"
    own = alice.get_by_test_id("timeline-message").filter(has_text="Your bill is at")
    await expect(own.get_by_test_id("msg-link")).to_have_attribute("href", f"{health}?from=agent")
    assert await customer.locator(".hc-bubble a[href^='javascript']").count() == 0
    assert errors == []
