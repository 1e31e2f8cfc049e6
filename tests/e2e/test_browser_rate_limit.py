"""A customer who types faster than the rate limit loses nothing: the widget sends each refused
message again when the hub says (``retry_after_ms``), and every message ends up stored and shown
as sent, in order."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from playwright.async_api import Browser, expect
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.storage.database import Db
from tests.conftest import make_settings

MESSAGES = 14  # the bucket holds 10 (rate 60/min): four are refused at first


@pytest.fixture
async def strict_hub(db_name: str, mongo_url: str, redis_url: str, redis: Redis) -> AsyncIterator[RunningHub]:
    base = make_settings(db_name)
    settings = base.model_copy(update={"webchat": base.webchat.model_copy(update={"rate_per_minute": 60})})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


async def test_messages_refused_by_the_rate_limit_are_sent_again_and_stored(
        strict_hub: RunningHub, browser: Browser, db: Db) -> None:
    customer = await (await browser.new_context()).new_page()
    errors: list[str] = []
    customer.on("pageerror", lambda exc: errors.append(str(exc)))
    await customer.goto(f"{strict_hub.base_url}/webchat/demo")
    await customer.get_by_test_id("hubchat-launcher").click()
    for n in range(MESSAGES):
        await customer.get_by_test_id("hubchat-input").fill(f"line {n:02d} of my long complaint")
        await customer.get_by_test_id("hubchat-send").click()
    await expect(customer.get_by_test_id("hubchat-error")).to_contain_text("too quickly")
    sent = customer.get_by_test_id("hubchat-message").and_(customer.locator('[data-status="sent"]'))
    await expect(sent).to_have_count(MESSAGES, timeout=30_000)
    stored = [doc["text"] async for doc in db["messages"].find({"inbound": True}).sort("sent_at", 1)]
    assert sorted(stored) == [f"line {n:02d} of my long complaint" for n in range(MESSAGES)]
    assert errors == []
