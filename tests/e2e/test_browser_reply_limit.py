"""The composer's per-channel length limit in a real browser (issue 16, item 4; ADR 0046): the
counter shows the channel's limit (web chat set to 80 characters here), a longer reply is refused
with a clear message instead of being cut (Send off, Enter sends nothing, the API answers 400
too_long), and a reply of exactly the limit arrives whole in the widget."""

from __future__ import annotations

import re

import pytest
from playwright.async_api import Browser, expect

from hub.bootstrap import RunningHub
from hub.config import Settings
from tests.clients import AgentClient
from tests.conftest import make_settings
from tests.e2e.test_browser_composer import widget_says
from tests.e2e.test_browser_flow import login

LIMIT = 80


@pytest.fixture
def settings(db_name: str) -> Settings:
    base = make_settings(db_name)
    return base.model_copy(update={"webchat": base.webchat.model_copy(update={"max_text_chars": LIMIT})})


async def test_the_limit_shows_and_blocks(hub: RunningHub, browser: Browser) -> None:
    alice = await login(browser, hub.base_url, "alice")
    customer = await widget_says(browser, hub.base_url, "How long may an answer be?")
    await alice.get_by_test_id("offers").get_by_test_id("conv-item").get_by_test_id("offer-accept").click()
    item = alice.get_by_test_id("assigned").get_by_test_id("conv-item")
    conversation_id = await item.get_attribute("data-conversation-id")
    box, hint, send = (alice.get_by_test_id(t) for t in ("composer-input", "composer-hint", "composer-send"))
    await expect(box).to_be_focused()

    await box.fill("电" * 50)
    await expect(hint).to_have_text(f"50 / {LIMIT} characters")
    await expect(send).to_be_enabled()
    too_long = "a" * LIMIT + "😀"  # 81 characters (82 UTF-16 units: web chat counts characters)
    await box.fill(too_long)
    await expect(hint).to_have_text(re.compile(rf"^Too long for .+: {LIMIT + 1} characters, at most {LIMIT}\."))
    await expect(hint).to_have_attribute("data-over", "true")
    await expect(send).to_be_disabled()
    await box.press("Enter")
    await expect(alice.get_by_test_id("toast").filter(has_text="Too long for")).to_be_visible()
    await expect(box).to_have_value(too_long)  # kept whole, not cut to the limit

    sara = await AgentClient(hub.base_url).login("sara")  # the server refuses it too
    try:
        refused = await sara.call("POST", f"/api/conversations/{conversation_id}/messages", {"text": too_long},
                                  expect=400)
        assert refused["error"]["code"] == "too_long"
        assert f"at most {LIMIT} characters" in refused["error"]["message"]
        view = await sara.call("GET", f"/api/conversations/{conversation_id}")
        assert view["limits"]["reply"] == {"unit": "characters", "max": LIMIT}
        assert not [e for e in view["timeline"] if e["kind"] == "message" and e["message"]["author"] == "agent"]
    finally:
        await sara.close()

    exact = "b" * (LIMIT - 1) + "!"
    await box.fill(exact)
    await expect(hint).to_have_text(f"{LIMIT} / {LIMIT} characters")
    await send.click()
    await expect(customer.get_by_test_id("hubchat-message").filter(has_text=exact)).to_have_count(1)
    assert await customer.get_by_test_id("hubchat-message").filter(has_text=too_long).count() == 0
