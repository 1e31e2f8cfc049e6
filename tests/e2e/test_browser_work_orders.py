"""A department user's work-order page in Chromium: she lands on it after login, sees her
department's orders only, reads an order whose fields hold markup (shown as text), and replies."""

from __future__ import annotations

from playwright.async_api import Browser, expect

from hub.bootstrap import RunningHub
from hub.clock import SystemClock
from hub.domain.ids import ExternalId
from hub.domain.model import InboundMessage
from tests.clients import AgentClient

MARKUP = '<img src=x onerror="document.title=\'owned\'">'


async def test_a_department_user_sees_her_orders_and_replies(hub: RunningHub, browser: Browser) -> None:
    received = await hub.context.inbox.accept_inbound(InboundMessage(
        channel="sms", external_id=ExternalId("browser-wo"), sender="+8613100131000", text="no power",
        received_at=SystemClock().now()))
    conversation_id = str(received.conversation.id)
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        repair = (await sara.call("POST", "/api/work_orders", {
            "conversation_id": conversation_id, "type": "repair", "department": "repair_north",
            "fields": {"address": "5 Lake Road", "phone": "+8613100131000", "area": "urban",
                       "description": MARKUP}}, expect=201))["work_order"]
        await sara.call("POST", "/api/work_orders", {
            "conversation_id": conversation_id, "type": "meter", "department": "metering",
            "fields": {"meter_number": "M-0042", "address": "5 Lake Road", "description": "meter dark"}}, expect=201)
    finally:
        await sara.close()

    errors: list[str] = []
    page = await (await browser.new_context()).new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{hub.base_url}/console/login")
    await page.get_by_test_id("login-username").fill("dora")
    await page.get_by_test_id("login-password").fill("northgrid-demo")
    await page.get_by_test_id("login-submit").click()
    await page.wait_for_url("**/console/work_orders")
    await expect(page.get_by_test_id("board-scope")).to_have_text("Department: repair_north")
    rows = page.get_by_test_id("order-row")
    await expect(rows).to_have_count(1)
    await expect(rows.first.get_by_test_id("order-number")).to_have_text(repair["number"])
    await expect(rows.first.get_by_test_id("order-first")).to_contain_text("running")

    await rows.first.click()
    await expect(page.get_by_test_id("detail-fields")).to_contain_text(MARKUP)  # text, not an element
    assert await page.locator("#detail-fields img").count() == 0
    await page.get_by_test_id("action-acknowledge").click()
    await expect(page.get_by_test_id("order-history")).to_contain_text("acknowledge")
    await expect(rows.first.get_by_test_id("order-first")).to_contain_text("met")
    await page.get_by_test_id("action-text").fill("Fuse replaced, power restored.")
    await page.get_by_test_id("action-reply").click()
    await expect(rows.first.get_by_test_id("order-state")).to_have_text("replied")
    await expect(page.get_by_test_id("order-history")).to_contain_text("reply — repair_north · Fuse replaced")
    assert await page.title() != "owned" and errors == []


async def test_an_order_is_opened_from_a_conversation_on_the_page(hub: RunningHub, browser: Browser) -> None:
    received = await hub.context.inbox.accept_inbound(InboundMessage(
        channel="sms", external_id=ExternalId("browser-wo-create"), sender="+8613100131001",
        text="when is my meter read?", received_at=SystemClock().now()))
    errors: list[str] = []
    page = await (await browser.new_context()).new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(f"{hub.base_url}/console/login")
    await page.get_by_test_id("login-username").fill("sara")
    await page.get_by_test_id("login-password").fill("northgrid-demo")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("agent-name")).not_to_be_empty()
    await page.goto(f"{hub.base_url}/console/work_orders?conversation={received.conversation.id}")
    await expect(page.get_by_test_id("create-conversation")).to_have_text(str(received.conversation.id))
    await page.get_by_test_id("create-type").select_option("consultation")
    await page.get_by_test_id("create-field-question").fill("When is the meter read in Lake Road?")
    await page.get_by_test_id("create-department").select_option("metering")
    await page.get_by_test_id("create-submit").click()
    await expect(page.get_by_test_id("order-row")).to_have_count(1)
    await expect(page.get_by_test_id("order-state")).to_have_text("dispatched")
    await expect(page.get_by_test_id("order-history")).to_contain_text("dispatch — metering")
    assert errors == []
