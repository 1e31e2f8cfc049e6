"""Every console page and the web-chat widget, in a realistic state, checked by axe-core in Chromium
(WCAG 2.1 A/AA and axe's best practices): no serious or critical violation anywhere.

States: the login page, also with its error after a wrong password; an agent's inbox with an
offer waiting, then with the conversation open (contact panel beside it) and the shortcut help open
over it; the customer's widget with messages; the supervisor page and the wallboard (light and
dark) with a customer waiting and one answered; quality, reports, admin, the bot trainer and a department's
work-order page with an order."""

from __future__ import annotations

from playwright.async_api import Browser, Page, expect

from hub.bootstrap import RunningHub
from hub.clock import SystemClock
from hub.domain.ids import ExternalId
from hub.domain.model import InboundMessage
from tests.clients import AgentClient
from tests.e2e.axe import Violation, blocking, new_page
from tests.e2e.conftest import sign_in


async def login(browser: Browser, base_url: str, username: str) -> Page:
    return await sign_in(await new_page(browser), base_url, username)


async def test_every_page_has_no_serious_or_critical_violation(hub: RunningHub, browser: Browser) -> None:
    found: dict[str, list[Violation]] = {}

    async def check(name: str, page: Page) -> None:
        found[name] = await blocking(page)

    anonymous = await new_page(browser)
    await anonymous.goto(f"{hub.base_url}/console/login")
    await expect(anonymous.get_by_test_id("login-submit")).to_be_visible()
    await check("login", anonymous)
    await anonymous.get_by_test_id("login-username").fill("alice")
    await anonymous.get_by_test_id("login-password").fill("not her password")
    await anonymous.get_by_test_id("login-submit").click()
    await expect(anonymous.get_by_test_id("login-error")).to_be_visible()
    await check("login refused", anonymous)

    alice = await login(browser, hub.base_url, "alice")
    await alice.get_by_test_id("agent-status").select_option("available")
    customer = await new_page(browser)
    await customer.goto(f"{hub.base_url}/webchat/demo")
    await customer.get_by_test_id("hubchat-launcher").click()
    await customer.get_by_test_id("hubchat-input").fill("My bill is wrong this month")
    await customer.get_by_test_id("hubchat-send").click()
    offer = alice.get_by_test_id("offers").get_by_test_id("conv-item")
    await expect(offer).to_have_count(1)
    await check("inbox with an offer", alice)
    await offer.get_by_test_id("offer-accept").click()
    await expect(alice.get_by_test_id("composer-input")).to_be_enabled()
    await alice.get_by_test_id("composer-input").fill("Let me look at your bill.")
    await alice.get_by_test_id("composer-send").click()
    await expect(alice.get_by_test_id("contact-panel")).to_be_visible()
    await check("inbox with a conversation open", alice)
    await alice.keyboard.press("Escape")  # out of the reply box, where "?" would be typed
    await alice.keyboard.press("?")
    await expect(alice.get_by_test_id("shortcuts-help")).to_be_visible()
    await check("shortcut help", alice)
    await alice.keyboard.press("Escape")
    await expect(customer.get_by_test_id("hubchat-message").filter(has_text="Let me look")).to_have_count(1)
    await check("web-chat widget", customer)

    # A second customer waits in the queue (Alice is away): the boards show one answered, one waiting.
    await alice.get_by_test_id("agent-status").select_option("away")
    waiting = await new_page(browser)
    await waiting.goto(f"{hub.base_url}/webchat/demo")
    await waiting.get_by_test_id("hubchat-launcher").click()
    await waiting.get_by_test_id("hubchat-input").fill("Is anybody there?")
    await waiting.get_by_test_id("hubchat-send").click()
    sara = await login(browser, hub.base_url, "sara")
    await sara.goto(f"{hub.base_url}/console/supervisor")
    general = sara.locator('[data-testid="queue-row"][data-queue-id="general"]')
    await expect(general.get_by_test_id("waiting")).to_have_text("1")
    await check("supervisor", sara)
    await sara.goto(f"{hub.base_url}/console/wallboard")
    await expect(sara.get_by_test_id("wb-conn")).to_have_text("Live")
    board_general = sara.locator('[data-testid="wb-queue-row"][data-id="general"]')
    await expect(board_general.get_by_test_id("waiting")).to_have_text("1")
    await expect(board_general.get_by_test_id("answered")).to_have_text("1")
    await check("wallboard", sara)
    await sara.emulate_media(color_scheme="dark")  # a wall screen's default
    await check("wallboard, dark", sara)
    await sara.emulate_media(color_scheme="light")
    await sara.goto(f"{hub.base_url}/console/quality")
    await check("quality", sara)
    await sara.goto(f"{hub.base_url}/console/reports")  # this week: today's answered chat in its row
    await expect(sara.get_by_test_id("rep-drill-answered")).to_have_count(1)
    await check("reports", sara)

    admin = await login(browser, hub.base_url, "admin")
    await admin.goto(f"{hub.base_url}/console/admin")
    await expect(admin.get_by_test_id("agent-row").first).to_be_visible()
    await check("admin", admin)

    tom = await login(browser, hub.base_url, "tom")
    await tom.goto(f"{hub.base_url}/console/trainer")
    await check("trainer", tom)

    received = await hub.context.inbox.accept_inbound(InboundMessage(
        channel="sms", external_id=ExternalId("a11y-wo"), sender="+8613100131000", text="no power",
        received_at=SystemClock().now()))
    client = await AgentClient(hub.base_url).login("sara")
    try:
        await client.call("POST", "/api/work_orders", {
            "conversation_id": str(received.conversation.id), "type": "repair", "department": "repair_north",
            "fields": {"address": "5 Lake Road", "phone": "+8613100131000", "area": "urban",
                       "description": "no power since noon"}}, expect=201)
    finally:
        await client.close()
    dora = await login(browser, hub.base_url, "dora")
    await dora.goto(f"{hub.base_url}/console/work_orders")
    await expect(dora.get_by_test_id("order-row")).to_have_count(1)
    await check("work orders", dora)

    assert len(found) == 14  # every page and state above was checked
    assert {name: [str(v) for v in vs] for name, vs in found.items() if vs} == {}
