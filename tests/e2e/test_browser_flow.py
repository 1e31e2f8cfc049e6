"""The real flow in a real browser: widget message -> agent inbox -> reply -> widget."""

from __future__ import annotations

from pathlib import Path

from playwright.async_api import Browser, Page, expect

from hub.bootstrap import RunningHub

XSS = '<img src=x onerror="window.__xss=1">'


async def login(browser: Browser, base_url: str, username: str) -> Page:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{base_url}/console/login")
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill("northgrid-demo")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("agent-name")).not_to_be_empty()
    await page.get_by_test_id("agent-status").select_option("available")
    return page


async def test_widget_to_agent_and_back_and_other_agent_never_sees_it(
        hub: RunningHub, browser: Browser, artifacts: Path) -> None:
    alice = await login(browser, hub.base_url, "alice")
    customer = await (await browser.new_context()).new_page()
    errors: list[str] = []
    customer.on("pageerror", lambda exc: errors.append(str(exc)))
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    await customer.goto(f"{hub.base_url}/webchat/demo")
    await customer.get_by_test_id("hubchat-launcher").click()
    await customer.get_by_test_id("hubchat-input").fill(f"My bill is wrong {XSS}")
    await customer.get_by_test_id("hubchat-send").click()
    mine = customer.get_by_test_id("hubchat-message").filter(has_text="My bill is wrong")
    await expect(mine).to_have_attribute("data-status", "sent")

    # Alice gets the offer, accepts, and sees the customer's text literally.
    offer = alice.get_by_test_id("offers").get_by_test_id("conv-item")
    await offer.get_by_test_id("offer-accept").click()
    item = alice.get_by_test_id("assigned").get_by_test_id("conv-item")
    await item.click()
    customer_text = alice.get_by_test_id("timeline-message").filter(has_text="My bill is wrong")
    await expect(customer_text).to_contain_text(XSS)
    conversation_id = await item.get_attribute("data-conversation-id")
    assert conversation_id

    # Bob logs in afterwards: the conversation held by Alice is nowhere in his console.
    bob = await login(browser, hub.base_url, "bob")
    await expect(bob.get_by_test_id("agent-status")).to_have_value("available")
    await expect(bob.locator(f'[data-conversation-id="{conversation_id}"]')).to_have_count(0)
    answer = await bob.request.get(f"{hub.base_url}/api/conversations/{conversation_id}")
    assert answer.status == 403

    # A second tab of hers, on the same conversation: it learns of the reply from its frame, while
    # the tab that sends it has it from the answer and gets no frame of it (ADR 0073).
    second = await alice.context.new_page()
    second.on("pageerror", lambda exc: errors.append(str(exc)))
    await second.goto(f"{hub.base_url}/console/")
    await second.get_by_test_id("assigned").get_by_test_id("conv-item").click()
    await expect(second.get_by_test_id("timeline-message").filter(has_text="My bill is wrong")).to_have_count(1)

    await alice.get_by_test_id("composer-input").fill("Let me check your meter reading.")
    await alice.get_by_test_id("composer-send").click()
    reply = customer.get_by_test_id("hubchat-message").filter(has_text="Let me check your meter reading.")
    await expect(reply).to_have_attribute("data-author", "agent")
    await expect(item.locator(".conv-preview")).to_have_text("Let me check your meter reading.")
    for tab in (alice, second):
        await expect(tab.get_by_test_id("timeline-message").filter(
            has_text="Let me check your meter reading.")).to_have_count(1)
    await expect(second.get_by_test_id("assigned").get_by_test_id("conv-item").locator(".conv-preview")).to_have_text(
        "Let me check your meter reading.")
    await expect(alice.get_by_test_id("timeline-message").filter(
        has_text="Let me check your meter reading.")).to_have_attribute("data-status", "read")
    await expect(mine).to_have_attribute("data-status", "read")

    assert await alice.evaluate("window.__xss") is None
    assert await customer.evaluate("window.__xss") is None
    assert errors == []
    await alice.screenshot(path=str(artifacts / "console.png"))
    await customer.screenshot(path=str(artifacts / "widget.png"))


async def test_widget_identity_survives_reload(hub: RunningHub, browser: Browser) -> None:
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{hub.base_url}/webchat/demo")
    await page.get_by_test_id("hubchat-launcher").click()
    await page.get_by_test_id("hubchat-input").fill("Is there an outage in Riverside?")
    await page.get_by_test_id("hubchat-send").click()
    message = page.get_by_test_id("hubchat-message").filter(has_text="Riverside")
    await expect(message).to_have_attribute("data-status", "sent")
    visitor = await page.evaluate("window.HubChat.state().visitor_id")
    await page.reload()
    await page.get_by_test_id("hubchat-launcher").click()
    await expect(page.get_by_test_id("hubchat-message").filter(has_text="Riverside")).to_have_count(1)
    assert await page.evaluate("window.HubChat.state().visitor_id") == visitor
    # The hub agrees: one contact, one conversation, one message.
    contact = await hub.context.inbox.contact_for("webchat", visitor, "x")
    conversation = await hub.context.inbox.open_conversation(contact["_id"])
    assert conversation is not None
    stored = await hub.context.messages.timeline(conversation.id, include_private=True)
    assert [m.text for m in stored] == ["Is there an outage in Riverside?"]


async def test_supervisor_sees_queues_and_agents_live(hub: RunningHub, browser: Browser) -> None:
    sara = await (await browser.new_context()).new_page()
    await sara.goto(f"{hub.base_url}/console/login")
    await sara.get_by_test_id("login-username").fill("sara")
    await sara.get_by_test_id("login-password").fill("northgrid-demo")
    await sara.get_by_test_id("login-submit").click()
    await expect(sara.get_by_test_id("agent-name")).not_to_be_empty()
    await sara.goto(f"{hub.base_url}/console/supervisor")
    general = sara.locator('[data-testid="queue-row"][data-queue-id="general"]')
    await expect(general.get_by_test_id("waiting")).to_have_text("0")

    customer = await (await browser.new_context()).new_page()
    await customer.goto(f"{hub.base_url}/webchat/demo")
    await customer.get_by_test_id("hubchat-launcher").click()
    await customer.get_by_test_id("hubchat-input").fill("Nobody is answering?")
    await customer.get_by_test_id("hubchat-send").click()
    await expect(general.get_by_test_id("waiting")).to_have_text("1")  # live, without a reload

    alice = await login(browser, hub.base_url, "alice")
    alice_id = (await (await alice.request.get(f"{hub.base_url}/api/me")).json())["agent"]["id"]
    row = sara.locator(f'[data-testid="agent-row"][data-agent-id="{alice_id}"]')
    await alice.get_by_test_id("offers").get_by_test_id("offer-accept").click()
    await expect(general.get_by_test_id("waiting")).to_have_text("0")
    await expect(row.get_by_test_id("status")).to_contain_text("vailable")
    await expect(row.get_by_test_id("load")).to_contain_text("webchat 1/3")
