"""A supervisor merges two contacts in the console and sees one history across channels, grouped
by conversation; her rename and the customer's details appear live in an admin's console."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Browser, Page, expect

from hub.bootstrap import RunningHub
from tests.integration.test_contacts import PHONE, inbound, resolve

XSS = '<img src=x onerror="window.__xss=1">'


async def open_conversation(browser: Browser, base_url: str, username: str, conversation_id: str,
                            errors: list[str]) -> Page:
    page = await (await browser.new_context()).new_page()
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await page.goto(f"{base_url}/console/login")
    await page.get_by_test_id("login-username").fill(username)
    await page.get_by_test_id("login-password").fill("northgrid-demo")
    await page.get_by_test_id("login-submit").click()
    await expect(page.get_by_test_id("agent-name")).not_to_be_empty()
    await page.goto(f"{base_url}/console/#{conversation_id}")
    await page.reload()  # a hash-only navigation does not load the page again
    return page


async def test_supervisor_merges_two_contacts_and_sees_history_across_channels(
        hub: RunningHub, browser: Browser, artifacts: Path) -> None:
    sms = await inbound(hub, "sms", PHONE, f"No power since noon {XSS}")
    await resolve(hub, sms.conversation.id)
    mail = await inbound(hub, "email", "ann@example.org", "Following up on the outage")
    sms_contact = (await hub.context.conversations.get_doc(sms.conversation.id))["contact_id"]

    errors: list[str] = []
    sara = await open_conversation(browser, hub.base_url, "sara", mail.conversation.id, errors)

    panel = sara.get_by_test_id("contact-panel")
    await expect(panel.get_by_test_id("contact-identity")).to_have_count(1)
    await expect(panel.get_by_test_id("contact-identity")).to_have_attribute("data-channel", "email")
    await panel.get_by_test_id("merge-search").fill(PHONE)
    await panel.get_by_test_id("merge-find").click()
    candidate = panel.locator(f'[data-testid="merge-candidate"][data-contact-id="{sms_contact}"]')
    await candidate.get_by_test_id("merge-submit").click()

    await expect(panel.get_by_test_id("contact-identity")).to_have_count(2)
    history = panel.get_by_test_id("history-message")
    await expect(history).to_have_count(2)
    await expect(history.nth(0)).to_have_attribute("data-channel", "sms")
    await expect(history.nth(0)).to_contain_text(XSS)  # text, never markup
    await expect(history.nth(1)).to_have_attribute("data-channel", "email")
    await expect(history.nth(0).locator(".badge-ch-sms")).to_have_count(1)
    # The conversation's own timeline carries a channel badge per message too.
    await expect(sara.get_by_test_id("timeline-message").first.locator(".badge-ch-email")).to_have_count(1)
    # Readable identities and the history grouped by conversation, with counts.
    await expect(panel.locator('[data-testid="contact-identity"][data-channel="sms"]')).to_contain_text(
        "+86 138 0013 8000")
    groups = panel.get_by_test_id("history-conversation")
    await expect(groups).to_have_count(2)
    await expect(groups.nth(0).get_by_test_id("history-conversation-title")).to_contain_text("SMS conversation")
    await expect(groups.nth(0).get_by_test_id("history-conversation-title")).to_contain_text("Resolved")
    await expect(panel.get_by_test_id("contact-counts")).to_contain_text("2 conversations · 1 open")

    # Another console shows the same contact; the supervisor's rename and details reach it live.
    admin = await open_conversation(browser, hub.base_url, "admin", mail.conversation.id, errors)
    seen = admin.get_by_test_id("contact-panel")
    await expect(seen.get_by_test_id("contact-identity")).to_have_count(2)
    await panel.get_by_test_id("contact-rename-input").fill("Ann Lee 李安")
    await panel.get_by_test_id("contact-rename-submit").click()
    await expect(seen.get_by_test_id("contact-name")).to_have_text("Ann Lee 李安")
    await panel.get_by_test_id("contact-attr-account_number").fill("A-1002")
    await panel.get_by_test_id("contact-attr-address").fill(f"12 Elm St {XSS}")
    await panel.get_by_test_id("contact-attr-save").click()
    await expect(seen.get_by_test_id("contact-attr-account_number")).to_have_value("A-1002")
    await expect(seen.get_by_test_id("contact-attr-address")).to_have_value(f"12 Elm St {XSS}")
    # An agent who serves none of its conversations (queued: she may view it) reads them as text.
    bob = await open_conversation(browser, hub.base_url, "bob", mail.conversation.id, errors)
    read_only = bob.get_by_test_id("contact-panel")
    await expect(read_only.get_by_test_id("contact-attr-address")).to_have_text(f"12 Elm St {XSS}")
    await expect(read_only.get_by_test_id("contact-attr-save")).to_have_count(0)
    await panel.get_by_test_id("contact-attr-account_number").fill("")
    await panel.get_by_test_id("contact-attr-save").click()
    await expect(read_only.get_by_test_id("contact-attr-account_number")).to_have_text("—")
    # Counts follow the contact's conversations live: resolving the open one leaves none open.
    await expect(seen.get_by_test_id("contact-counts")).to_contain_text("2 conversations · 1 open")
    await resolve(hub, mail.conversation.id)
    await expect(seen.get_by_test_id("contact-counts")).to_contain_text("2 conversations · 0 open")
    # Bob may no longer see it (resolved, never his): his panel shows nothing stale.
    await expect(read_only).to_contain_text("This contact is no longer visible to you.")
    for page in (sara, admin, bob):
        assert await page.evaluate("window.__xss") is None
    assert errors == []
    await sara.screenshot(path=str(artifacts / "contact-merge.png"))
    await admin.screenshot(path=str(artifacts / "contact-live.png"))
