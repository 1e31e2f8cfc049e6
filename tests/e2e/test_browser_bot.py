"""The bot in a real browser: it answers a bill question alone, and hands a human-seeking
customer over to an agent, who sees the handover card and replies."""

from __future__ import annotations

import pytest
from playwright.async_api import Browser, Page, expect

from hub.bootstrap import RunningHub
from tests.e2e.test_browser_flow import login


@pytest.fixture
def hub(bot_hub: RunningHub) -> RunningHub:
    return bot_hub


async def customer_says(browser: Browser, base_url: str, text: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{base_url}/webchat/demo")
    await page.get_by_test_id("hubchat-launcher").click()
    await page.get_by_test_id("hubchat-input").fill(text)
    await page.get_by_test_id("hubchat-send").click()
    return page


async def test_bot_answers_then_hands_over_to_an_agent_with_a_card(hub: RunningHub, browser: Browser) -> None:
    alice = await login(browser, hub.base_url, "alice")

    first = await customer_says(browser, hub.base_url, "How do I check my electricity bill?")
    await expect(first.locator('[data-testid="hubchat-message"][data-author="bot"]').first).to_be_visible()
    await expect(alice.get_by_test_id("offers").get_by_test_id("conv-item")).to_have_count(0)

    second = await customer_says(browser, hub.base_url, "I want to speak to a human agent")
    offer = alice.get_by_test_id("offers").get_by_test_id("conv-item")
    await offer.get_by_test_id("offer-accept").click()
    await alice.get_by_test_id("assigned").get_by_test_id("conv-item").click()
    card = alice.get_by_test_id("handover-card")
    await expect(card).to_be_visible()
    await expect(card.get_by_test_id("handover-reason")).to_have_text("asked")
    await expect(card.get_by_test_id("handover-intent")).to_contain_text("talk_to_human")
    await expect(card.get_by_test_id("handover-intent")).to_contain_text("%")
    await expect(card.get_by_test_id("handover-transcript")).to_contain_text("I want to speak to a human agent")

    await alice.get_by_test_id("composer-input").fill("Hello, this is Alice. How can I help?")
    await alice.get_by_test_id("composer-send").click()
    reply = second.locator('[data-testid="hubchat-message"][data-author="agent"]')
    await expect(reply).to_contain_text("How can I help?")

    # The timeline in human words under one day separator; the handover card stays pinned at the
    # top of the conversation view while the agent scrolls down a long exchange.
    timeline = alice.get_by_test_id("timeline")
    await expect(timeline.get_by_test_id("day-separator")).to_have_text(["Today"])
    await expect(timeline.locator('[data-testid="timeline-event"][data-event-type="handed_over"]')).to_contain_text(
        "The bot handed over: waiting in")
    assigned = timeline.locator('[data-testid="timeline-event"][data-event-type="assigned"] .event-text')
    await expect(assigned).to_have_text("You took it")
    conversation_id = await alice.evaluate("location.hash.slice(1)")
    await alice.evaluate("""async (id) => {
      const headers = { 'Content-Type': 'application/json', 'X-CSRF-Token': sessionStorage.getItem('hub.csrf') };
      for (let i = 1; i <= 25; i++) {
        await fetch(`/api/conversations/${id}/messages`, { method: 'POST', headers,
          body: JSON.stringify({ text: `Step ${i} of checking your meter` }) });
      }
    }""", conversation_id)
    await expect(timeline.get_by_test_id("timeline-message").last).to_contain_text("Step 25 of")
    await timeline.evaluate("el => { el.scrollTop = el.scrollHeight; }")
    await expect(card).to_be_in_viewport()
    box, view = await card.bounding_box(), await timeline.bounding_box()
    assert box is not None and view is not None and abs(box["y"] - view["y"]) < 30
