"""The customer kept informed and the satisfaction survey in the real widget (headless Chromium).

No agent online: the widget offers the offline form beside the chat; the customer's first message is
answered "connecting you to an agent" with the queue position; after the agent resolved, the closing
line and the question with five stars; a click on the fourth stores 4 and closes the conversation;
after a reload the answered stars stay disabled. In Chinese (``lang="zh-CN"``) outside business
hours, the offline form becomes a queued conversation an agent is offered."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import NoticeSettings, SurveySettings
from hub.domain.business_hours import DAYS
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually, make_settings


@pytest.fixture
async def surveyed_hub(db_name: str, mongo_url: str, redis_url: str, redis: Redis) -> AsyncIterator[RunningHub]:
    settings = make_settings(db_name).model_copy(update={"surveys": SurveySettings(enabled=True),
                                                         "notices": NoticeSettings(enabled=True)})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


async def test_the_customer_rates_with_stars_in_the_widget(surveyed_hub: RunningHub, browser: Browser, db: Db,
                                                           artifacts: Path) -> None:
    hub = surveyed_hub
    customer = await (await browser.new_context()).new_page()
    errors: list[str] = []
    customer.on("pageerror", lambda exc: errors.append(str(exc)))
    await customer.goto(f"{hub.base_url}/webchat/demo")
    await customer.get_by_test_id("hubchat-launcher").click()
    await expect(customer.get_by_test_id("hubchat-offline-note")).to_have_text(
        "No agent is available right now. Leave us a message and we will answer.", timeout=10_000)
    await customer.get_by_test_id("hubchat-input").fill("My meter shows zero")
    await customer.get_by_test_id("hubchat-send").click()
    said = customer.locator('[data-testid="hubchat-message"][data-author="system"] .hc-bubble')
    await expect(said.first).to_have_text("Connecting you to an agent. You are number 1 in the queue.",
                                          timeout=15_000)
    await expect(said.first).to_have_attribute("dir", "auto")
    alice = await AgentClient.online(hub.base_url, "alice")
    try:
        conversation_id = await alice.take_offer(timeout=15)
        await alice.reply(conversation_id, "مرحبا، كيف يمكنني مساعدتك؟ 123")  # right-to-left text
        arabic = customer.locator('[data-testid="hubchat-message"][data-author="agent"] .hc-bubble')
        await expect(arabic).to_have_attribute("dir", "auto", timeout=10_000)
        assert await arabic.evaluate("b => getComputedStyle(b).direction") == "rtl"
        await alice.call("POST", f"/api/conversations/{conversation_id}/resolve")
        await expect(said.filter(has_text="This conversation is resolved.")).to_have_count(1, timeout=15_000)

        stars = customer.get_by_test_id("hubchat-stars").get_by_test_id("hubchat-star")
        await expect(stars).to_have_count(5, timeout=15_000)
        await stars.nth(3).click()
        await expect(customer.locator(".hc-star-on")).to_have_count(4)
        await expect(stars.nth(0)).to_be_disabled()  # one answer

        async def stored() -> bool:
            survey = await db["surveys"].find_one({"_id": conversation_id})
            return bool(survey and survey["score"] == 4)

        await eventually(stored, timeout=15)
        await eventually(lambda: _closed(hub, conversation_id), timeout=15)
        assert await db["conversations"].count_documents({}) == 1  # the "4" opened no conversation
        await customer.screenshot(path=str(artifacts / "survey-stars.png"))

        # A reload draws the answered survey as it was answered: nothing to click, no "4" again.
        await customer.reload()
        await customer.get_by_test_id("hubchat-launcher").click()
        await expect(stars).to_have_count(5, timeout=10_000)
        for star in range(5):
            await expect(stars.nth(star)).to_be_disabled()
        await expect(customer.locator(".hc-star-on")).to_have_count(4)

        # The wallboard's queue table shows today's CSAT: 1 of 1 answered scored 4 or 5.
        sara = await (await browser.new_context()).new_page()
        sara.on("pageerror", lambda exc: errors.append(str(exc)))
        await sara.goto(f"{hub.base_url}/console/login")
        await sara.get_by_test_id("login-username").fill("sara")
        await sara.get_by_test_id("login-password").fill("northgrid-demo")
        await sara.get_by_test_id("login-submit").click()
        await expect(sara.get_by_test_id("agent-name")).not_to_be_empty()
        await sara.goto(f"{hub.base_url}/console/wallboard")
        general = sara.locator('[data-testid="wb-queue-row"][data-id="general"]')
        await expect(general.get_by_test_id("csat")).to_have_text("100 % (1)", timeout=20_000)
        await expect(general.get_by_test_id("csat")).to_have_attribute("title", "Mean score 4.0 of 5")
        await sara.screenshot(path=str(artifacts / "survey-wallboard.png"))
        assert errors == []
    finally:
        await alice.close()


async def _closed(hub: RunningHub, conversation_id: str) -> bool:
    return (await hub.context.conversations.get(conversation_id)).state.value == "closed"


async def test_the_widget_in_chinese_outside_hours_takes_the_offline_form(surveyed_hub: RunningHub, browser: Browser,
                                                                          db: Db, artifacts: Path) -> None:
    hub = surveyed_hub
    directory = hub.context.directory
    tomorrow = (datetime.now(UTC) + timedelta(hours=8) + timedelta(days=1)).weekday()  # the centre: UTC+8
    await directory.put_queue(replace(await directory.queue("general"), hours={DAYS[tomorrow]: "08:00-09:00"}))
    context = await browser.new_context(timezone_id="Asia/Shanghai")  # the opening in the customer's clock

    customer = await context.new_page()
    # The same demo page declared Chinese, as a page would be: <html lang="zh-CN"> before the widget's
    # deferred script runs (a page fulfilled by Playwright instead is not loopback to Chromium, which
    # then blocks its socket to the hub).
    await customer.add_init_script("document.addEventListener('readystatechange', () => {"
                                   " if (document.readyState === 'interactive')"
                                   " document.documentElement.setAttribute('lang', 'zh-CN'); });")
    errors: list[str] = []
    customer.on("pageerror", lambda exc: errors.append(str(exc)))
    await customer.goto(f"{hub.base_url}/webchat/demo")
    launcher = customer.get_by_test_id("hubchat-launcher")
    await expect(launcher).to_have_attribute("aria-label", "打开在线客服")
    await launcher.click()
    await expect(customer.get_by_test_id("hubchat-input")).to_have_attribute("placeholder", "请输入消息…")
    note = customer.get_by_test_id("hubchat-offline-note")
    await expect(note).to_contain_text("现在是非服务时间", timeout=10_000)
    await expect(note).to_contain_text("08:00")
    await customer.get_by_test_id("hubchat-offline-name").fill("王芳")
    await customer.get_by_test_id("hubchat-offline-message").fill("电表不走字了，请回电")  # noqa: RUF001
    await customer.get_by_test_id("hubchat-offline-send").click()
    await expect(customer.get_by_test_id("hubchat-error")).to_have_text("请填写电子邮箱或手机号码。")
    await customer.get_by_test_id("hubchat-offline-email").fill("wang.fang@example.com")
    await customer.get_by_test_id("hubchat-offline-send").click()
    await expect(customer.get_by_test_id("hubchat-offline-thanks")).to_be_visible(timeout=10_000)
    await expect(customer.get_by_test_id("hubchat-connection")).to_be_hidden(timeout=10_000)  # the chat works too
    await customer.screenshot(path=str(artifacts / "widget-offline-zh.png"))

    alice = await AgentClient.online(hub.base_url, "alice")  # in early: the queue is offered all the same
    try:
        conversation_id = await alice.take_offer(timeout=15)
        seen = await alice.call("GET", f"/api/conversations/{conversation_id}")  # what the agent sees
        assert (seen["conversation"]["channel"], seen["conversation"]["state"]) == ("email", "assigned")
        messages = [e["message"] for e in seen["timeline"] if e["kind"] == "message"]
        assert [m["text"] for m in messages if m["author"] == "customer"] == ["电表不走字了，请回电"]  # noqa: RUF001

        async def told() -> list[str]:  # the closed notice, by e-mail (no e-mail server here: it fails there)
            return [m["text"] async for m in db["messages"].find({"conversation_id": conversation_id,
                                                                  "author": "system"})]

        await eventually(told, timeout=10)
        [notice] = await told()
        assert notice.startswith("现在是非服务时间")
        assert errors == []
    finally:
        await alice.close()
