"""The satisfaction survey in the real widget (headless Chromium): after the agent resolved, the
question comes with five stars; a click on the fourth stores 4 and closes the conversation."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import SurveySettings
from hub.storage.database import Db
from tests.clients import AgentClient
from tests.conftest import eventually, make_settings


@pytest.fixture
async def surveyed_hub(db_name: str, mongo_url: str, redis_url: str, redis: Redis) -> AsyncIterator[RunningHub]:
    settings = make_settings(db_name).model_copy(update={"surveys": SurveySettings(enabled=True)})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


async def test_the_customer_rates_with_stars_in_the_widget(surveyed_hub: RunningHub, browser: Browser, db: Db,
                                                           artifacts: Path) -> None:
    hub = surveyed_hub
    alice = await AgentClient.online(hub.base_url, "alice")
    try:
        customer = await (await browser.new_context()).new_page()
        errors: list[str] = []
        customer.on("pageerror", lambda exc: errors.append(str(exc)))
        await customer.goto(f"{hub.base_url}/webchat/demo")
        await customer.get_by_test_id("hubchat-launcher").click()
        await customer.get_by_test_id("hubchat-input").fill("My meter shows zero")
        await customer.get_by_test_id("hubchat-send").click()
        conversation_id = await alice.take_offer(timeout=15)
        await alice.call("POST", f"/api/conversations/{conversation_id}/resolve")

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
