"""Knowledge in a real browser: the agent who takes a handed-over complaint sees the article linked
to the complaint intent beside the handover card, as text (its markup, a script included, never runs),
and inserts it into the composer; a canned reply's variables are filled from the conversation, also
through the composer's "/" shortcut."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from hub.bootstrap import RunningHub
from tests.clients import AgentClient
from tests.e2e.test_browser_bot import customer_says
from tests.e2e.test_browser_flow import login

ARTICLE = ("# Complaints\n\nApologise, take the **account number**, promise a call within 24 hours.\n\n"
           "<script>window.__kbxss = 1</script><img src=x onerror=\"window.__kbxss = 2\">")


@pytest.fixture
def hub(bot_hub: RunningHub) -> RunningHub:
    return bot_hub


async def test_the_agent_sees_the_article_for_the_handover_intent(hub: RunningHub, browser: Browser) -> None:
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        await sara.call("POST", "/api/knowledge/categories", {"id": "complaints", "name": "Complaints"}, expect=201)
        await sara.call("POST", "/api/knowledge/articles", {
            "title": "Handling a complaint", "body": ARTICLE, "category": "complaints", "language": "en",
            "intents": ["complaint"]}, expect=201)
        reply = (await sara.call("POST", "/api/canned_replies", {
            "title": "Complaint taken", "text": "Dear {customer_name}, this is {agent_name}: order {order_number}."},
            expect=201))["canned_reply"]
    finally:
        await sara.close()
    chen = await login(browser, hub.base_url, "chen")  # the complaints queue's agent
    await customer_says(browser, hub.base_url, "I want to make a complaint")
    await chen.get_by_test_id("offers").get_by_test_id("conv-item").get_by_test_id("offer-accept").click()
    await chen.get_by_test_id("assigned").get_by_test_id("conv-item").click()
    card = chen.get_by_test_id("handover-card")
    await expect(card.get_by_test_id("handover-intent")).to_contain_text("complaint")
    article = card.get_by_test_id("kb-article")
    await expect(article.get_by_test_id("kb-article-title")).to_have_text("Handling a complaint")
    await article.get_by_test_id("kb-article-title").click()
    await expect(article.get_by_test_id("kb-article-text")).to_have_text(
        "Complaints\nApologise, take the account number, promise a call within 24 hours.")
    await article.get_by_test_id("kb-insert").click()
    await expect(chen.get_by_test_id("composer-input")).to_have_value(
        "Complaints\nApologise, take the account number, promise a call within 24 hours.")
    # A canned reply's variables filled from the conversation; one without a value stays for the agent.
    await chen.get_by_test_id("composer-input").fill("")
    await chen.get_by_test_id("canned-select").select_option(reply["id"])
    await expect(chen.get_by_test_id("composer-input")).to_have_value(re.compile(r"^Dear "))  # the contact read
    composed = await chen.get_by_test_id("composer-input").input_value()
    assert composed.startswith("Dear ") and "{customer_name}" not in composed, composed
    assert composed.endswith("this is Chen Jing: order {order_number}."), composed
    # The composer's "/" shortcut: "/taken" and Enter puts that reply in place instead of sending.
    await chen.get_by_test_id("composer-input").fill("/taken")
    await chen.get_by_test_id("composer-input").press("Enter")
    await expect(chen.get_by_test_id("composer-input")).to_have_value(composed)
    await chen.get_by_test_id("composer-input").fill("/nosuchreply")
    await chen.get_by_test_id("composer-input").press("Enter")
    await expect(chen.get_by_test_id("composer-input")).to_have_value("/nosuchreply")  # not sent
    assert await chen.evaluate("window.__kbxss") is None
    assert await chen.locator(".kb-suggestions script, .kb-suggestions img").count() == 0
