"""The real Rasa bot answering from the hub's own tables: an FAQ intent from the article linked to
it, the outage question from the outage table and the contact's area."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from hub.bootstrap import RunningHub
from tests.clients import AgentClient, WidgetClient

HOURS = "Our hotline 95598 answers **day and night**; service halls open 8:30-17:30 on working days."


@pytest.fixture
async def sara(bot_hub: RunningHub) -> AsyncIterator[AgentClient]:
    client = await AgentClient(bot_hub.base_url).login("sara")
    yield client
    await client.close()


async def bot_says(widget: WidgetClient, text: str) -> str:
    await widget.say(text)
    frame = await widget.next("message", timeout=20)
    assert frame["message"]["author"] == "bot", frame
    return str(frame["message"]["text"])


async def test_an_article_linked_to_an_intent_answers_it(bot_hub: RunningHub, sara: AgentClient) -> None:
    await sara.call("POST", "/api/knowledge/categories", {"id": "service", "name": "Service"}, expect=201)
    await sara.call("POST", "/api/knowledge/articles", {
        "title": "Opening hours", "body": HOURS, "category": "service", "language": "en",
        "intents": ["opening_hours"]}, expect=201)
    async with aiohttp.ClientSession() as http:
        widget = WidgetClient(bot_hub.base_url, http)
        await widget.connect()
        answer = await bot_says(widget, "what are your opening hours")
    # The article's text, without its Markdown, instead of the model's own response.
    assert answer == "Our hotline 95598 answers day and night; service halls open 8:30-17:30 on working days."


async def test_the_outage_question_is_answered_from_the_outage_table(bot_hub: RunningHub, sara: AgentClient) -> None:
    start = datetime.now(UTC) - timedelta(hours=1)
    await sara.call("POST", "/api/outages", {
        "area": "Riverside", "cause": "transformer fault", "start": start.isoformat(),
        "expected_restoration": (start + timedelta(hours=4)).isoformat()}, expect=201)
    async with aiohttp.ClientSession() as http:
        at_home = WidgetClient(bot_hub.base_url, http)
        await at_home.connect()
        sent = await at_home.say("hello")
        await at_home.next("message", timeout=20)  # the greeting
        conversation = await bot_hub.context.conversations.get(sent["conversation_id"])
        await sara.call("PUT", f"/api/contacts/{conversation.contact_id}/area", {"area": "riverside"})
        answer = await bot_says(at_home, "is there a power cut in my area?")
        assert "power cut in Riverside (transformer fault)" in answer, answer

        # A customer whose area is on file and has no outage hears so.
        elsewhere = WidgetClient(bot_hub.base_url, http)
        await elsewhere.connect()
        sent = await elsewhere.say("hello")
        await elsewhere.next("message", timeout=20)
        conversation = await bot_hub.context.conversations.get(sent["conversation_id"])
        await sara.call("PUT", f"/api/contacts/{conversation.contact_id}/area", {"area": "Hillside"})
        assert "no power cut on record for Hillside" in await bot_says(elsewhere, "any outages near me?")

        # Without an area on file the bot keeps its usual answer (the outage map).
        unknown = WidgetClient(bot_hub.base_url, http)
        await unknown.connect()
        assert "outage map" in await bot_says(unknown, "any outages near me?")
