"""A supervisor merges two contacts in the console and sees one history across channels."""

from __future__ import annotations

import asyncio
from pathlib import Path

from playwright.async_api import Browser, expect

from hub.bootstrap import RunningHub
from tests.integration.test_contacts import PHONE, inbound, resolve

XSS = '<img src=x onerror="window.__xss=1">'


async def test_supervisor_merges_two_contacts_and_sees_history_across_channels(
        hub: RunningHub, browser: Browser, artifacts: Path) -> None:
    sms = await inbound(hub, "sms", PHONE, f"No power since noon {XSS}")
    await resolve(hub, sms.conversation.id)
    mail = await inbound(hub, "email", "ann@example.org", "Following up on the outage")
    sms_contact = (await hub.context.conversations.get_doc(sms.conversation.id))["contact_id"]

    sara = await (await browser.new_context()).new_page()
    errors: list[str] = []
    sara.on("pageerror", lambda exc: errors.append(str(exc)))
    sara.on("dialog", lambda dialog: asyncio.ensure_future(dialog.accept()))
    await sara.goto(f"{hub.base_url}/console/login")
    await sara.get_by_test_id("login-username").fill("sara")
    await sara.get_by_test_id("login-password").fill("northgrid-demo")
    await sara.get_by_test_id("login-submit").click()
    await expect(sara.get_by_test_id("agent-name")).not_to_be_empty()
    await sara.goto(f"{hub.base_url}/console/#{mail.conversation.id}")
    await sara.reload()  # a hash-only navigation does not load the page again

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
    assert await sara.evaluate("window.__xss") is None
    assert errors == []
    await sara.screenshot(path=str(artifacts / "contact-merge.png"))
