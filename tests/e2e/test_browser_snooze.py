"""Snooze in a real browser (issue 16 item 2, ADR 0049): Alice snoozes a web-chat conversation
for an hour; it leaves "My conversations" for "Snoozed" (with its count); the customer writes and
it comes back at once with a notice; snoozed again until a time she picks, she wakes it by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from playwright.async_api import Browser, expect

from hub.bootstrap import RunningHub
from hub.config import Settings
from hub.settings.acd import SnoozeSettings
from tests.conftest import make_settings
from tests.e2e.test_browser_bot import customer_says
from tests.e2e.test_browser_flow import login


@pytest.fixture
def settings(db_name: str) -> Settings:
    return make_settings(db_name).model_copy(update={"snooze": SnoozeSettings(poll_s=0.5)})


async def test_snooze_from_the_console_and_back_when_the_customer_writes(hub: RunningHub, browser: Browser) -> None:
    alice = await login(browser, hub.base_url, "alice")
    errors: list[str] = []
    alice.on("pageerror", lambda exc: errors.append(str(exc)))
    customer = await customer_says(browser, hub.base_url, "我的电表读数好像不对")
    await alice.get_by_test_id("offers").get_by_test_id("conv-item").get_by_test_id("offer-accept").click()
    conversation = alice.get_by_test_id("conversation")
    await expect(conversation).to_have_attribute("data-state", "assigned")
    conversation_id = await conversation.get_attribute("data-conversation-id")
    assert conversation_id
    mine, snoozed = alice.get_by_test_id("assigned"), alice.get_by_test_id("snoozed")
    await expect(mine.get_by_test_id("conv-item")).to_have_count(1)

    # Snooze for an hour: out of her active list, into the snoozed one, still hers.
    await alice.get_by_test_id("snooze-select").select_option("1h")
    await alice.get_by_test_id("snooze-submit").click()
    await expect(alice.get_by_test_id("snooze-status")).to_contain_text("Snoozed until")
    await expect(snoozed.get_by_test_id("conv-item")).to_have_count(1)
    await expect(alice.get_by_test_id("snoozed-count")).to_have_text("1")
    await expect(mine.get_by_test_id("conv-item")).to_have_count(0)
    doc = await hub.context.conversations.get_doc(conversation_id)
    assert doc["state"] == "assigned" and doc["agent_id"]
    assert timedelta(minutes=58) < doc["snoozed_until"] - datetime.now(UTC) < timedelta(minutes=61)

    # The customer writes: it comes back at once, with a notice.
    await customer.get_by_test_id("hubchat-input").fill("还在吗")
    await customer.get_by_test_id("hubchat-send").click()
    await expect(mine.get_by_test_id("conv-item")).to_have_count(1)
    await expect(snoozed.get_by_test_id("conv-item")).to_have_count(0)
    await expect(alice.get_by_test_id("snoozed-count")).to_have_text("0")
    await expect(alice.locator(".toast", has_text="Back from snooze")).to_be_visible()
    events = await hub.context.conversations.events_of(conversation_id)
    assert [e["type"] for e in events][-2:] == ["snoozed", "woken"]
    assert events[-1]["detail"] == {"reason": "customer"}

    # Until a time she picks (the browser's local time), then woken by hand.
    await alice.get_by_test_id("snooze-select").select_option("pick")
    await expect(alice.get_by_test_id("snooze-time")).to_be_visible()
    await alice.get_by_test_id("snooze-time").fill("2099-01-01T09:00")
    await alice.get_by_test_id("snooze-submit").click()
    await expect(alice.locator(".toast", has_text="at most")).to_be_visible()  # the hub's 400, in words
    picked = (datetime.now() + timedelta(days=2)).strftime("%Y-%m-%dT10:30")
    await alice.get_by_test_id("snooze-time").fill(picked)
    await alice.get_by_test_id("snooze-submit").click()
    await expect(snoozed.get_by_test_id("conv-item")).to_have_count(1)
    doc = await hub.context.conversations.get_doc(conversation_id)
    assert doc["snoozed_until"].astimezone().strftime("%Y-%m-%dT%H:%M") == picked
    await alice.get_by_test_id("snooze-wake").click()
    await expect(mine.get_by_test_id("conv-item")).to_have_count(1)
    await expect(snoozed.get_by_test_id("conv-item")).to_have_count(0)
    await expect(alice.get_by_test_id("snooze-select")).to_be_visible()
    assert errors == []
