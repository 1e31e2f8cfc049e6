"""With the Rasa server down, customers reach the human queue within the bot timeout."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import BotSettings
from hub.embedded import free_port
from tests.clients import AgentClient, WidgetClient
from tests.conftest import make_settings


@pytest.fixture
async def hub(mongo_url: str, redis_url: str, redis: Redis, db_name: str) -> AsyncIterator[RunningHub]:
    settings = make_settings(db_name)
    dead_rasa = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    settings = settings.model_copy(update={"bot": BotSettings(rasa_url=dead_rasa, timeout_s=1.0)})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


async def test_customer_reaches_a_human_with_reason_bot_unavailable(hub: RunningHub) -> None:
    agent = await AgentClient.online(hub.base_url, "alice")
    try:
        async with aiohttp.ClientSession() as http:
            widget = WidgetClient(hub.base_url, http)
            await widget.connect()
            sent = await widget.say("why is my bill so high")
            offer = await agent.next("offer", timeout=5)
        cid = sent["conversation_id"]
        assert offer["conversation"]["id"] == cid
        handover = offer["conversation"]["handover"]
        assert handover["reason"] == "bot_unavailable"
        assert handover["transcript"] == [{"author": "customer", "text": "why is my bill so high"}]
        events = [e["type"] for e in await hub.context.conversations.events_of(cid)]
        assert events == ["created", "bot_started", "handed_over", "offered"]
        await agent.call("POST", f"/api/conversations/{cid}/accept")
        await agent.call("GET", "/api/supervisor/kpis", expect=403)
    finally:
        await agent.close()
    sara = await AgentClient(hub.base_url).login("sara")
    try:
        await sara.call("GET", "/api/supervisor/kpis?hours=abc", expect=400)
        kpis = (await sara.call("GET", "/api/supervisor/kpis?hours=1"))["bot"]
    finally:
        await sara.close()
    assert (kpis["with_bot"], kpis["handed_over"], kpis["containment_rate"]) == (1, 1, 0.0)
    assert kpis["handovers_by_reason"] == {"bot_unavailable": 1}
    assert kpis["wait_after_handover_s"]["n"] == 1 and kpis["waiting_now"] == 0
