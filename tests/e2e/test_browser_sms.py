"""An SMS conversation in the console: the channel is shown, and the composer counts segments (then the
length against the channel's limit, ADR 0046)."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from pathlib import Path

from playwright.async_api import Browser, expect

from hub.bootstrap import RunningHub
from hub.domain.ids import ExternalId
from hub.domain.model import InboundMessage
from tests.e2e.test_browser_flow import login


async def test_agent_sees_an_sms_conversation_and_the_segment_counter(
        hub: RunningHub, browser: Browser, artifacts: Path) -> None:
    alice = await login(browser, hub.base_url, "alice")
    errors: list[str] = []
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    await hub.context.inbox.accept_inbound(InboundMessage(
        channel="sms", external_id=ExternalId("kannel-e2e-1"), sender="+8613800138000",
        text="我家停电了，什么时候恢复？", received_at=datetime.now(UTC)))  # noqa: RUF001

    offer = alice.get_by_test_id("offers").get_by_test_id("conv-item")
    await expect(offer.locator(".badge-ch-sms")).to_have_count(1)
    await offer.get_by_test_id("offer-accept").click()
    await alice.get_by_test_id("assigned").get_by_test_id("conv-item").click()
    await expect(alice.get_by_test_id("timeline-message").filter(has_text="我家停电了")).to_have_count(1)

    composer, hint = alice.get_by_test_id("composer-input"), alice.get_by_test_id("composer-hint")
    await composer.fill("您好，抢修人员已出发。")  # noqa: RUF001
    await expect(hint).to_have_text(re.compile(r"^SMS · UCS-2 · 1 segment · 59 left · "))
    await composer.fill("a" * 161)
    await expect(hint).to_have_text(re.compile(r"^SMS · GSM-7 · 2 segments · 145 left · "))
    await composer.fill("Price: 5€")  # the euro sign is GSM-7's extension table: two septets
    await expect(hint).to_have_text(re.compile(r"^SMS · GSM-7 · 1 segment · 150 left · "))
    await alice.screenshot(path=str(artifacts / "sms-composer.png"))
    assert errors == []
