"""Satisfaction surveys after resolve (hub/surveys), against the real hub, SecantusDB and Redis:
the widget's stars, a miss re-asked once and then passed on, the e-mail survey's signed page
(forged and expired links refused), Telegram's buttons through the Bot API stand-in, the link in a
real e-mail (Postfix into Dovecot), and the answer counted in /api/kpi/today and its drill-down."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.config import Settings, SurveySettings
from hub.domain import survey_links
from hub.storage.database import Db
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually, make_settings
from tests.contract.harness_telegram import telegram_settings, wait_until_receiving
from tests.mailserver import (
    SUPPORT,
    customer_address,
    customer_mail,
    email_settings,
    mailbox,
    plain_text,
    running_mail_server,
    smtp_send,
)
from tests.standins.telegram_bot_api import BotApiStandIn

SURVEYED = SurveySettings(enabled=True, page_per_minute=60)  # the page's burst: 15 requests


def surveyed(settings: Settings) -> Settings:
    return settings.model_copy(update={"surveys": SURVEYED})


@pytest.fixture
async def hub(db_name: str, mongo_url: str, redis_url: str, redis: Redis) -> AsyncIterator[RunningHub]:
    async with running_hub(surveyed(make_settings(db_name)), mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


@pytest.fixture
async def alice(hub: RunningHub) -> AsyncIterator[AgentClient]:
    client = await AgentClient.online(hub.base_url, "alice")
    yield client
    await client.close()


async def resolved_chat(hub: RunningHub, http: aiohttp.ClientSession, agent: AgentClient,
                        ) -> tuple[WidgetClient, str]:
    """A widget customer whose conversation the agent took and resolved."""
    widget = WidgetClient(hub.base_url, http)
    await widget.connect()
    await widget.say("my bill doubled")
    conversation_id = await agent.take_offer(timeout=15)
    await agent.call("POST", f"/api/conversations/{conversation_id}/resolve")
    return widget, conversation_id


async def question(widget: WidgetClient) -> dict[str, Any]:
    while True:
        frame = await widget.next("message", timeout=15)
        if frame["message"]["author"] == "system":
            return frame["message"]  # type: ignore[no-any-return]


async def press(widget: WidgetClient, text: str, payload: str | None = None) -> dict[str, Any]:
    assert widget.ws is not None
    client_id = uuid.uuid4().hex
    await widget.ws.send_str(json.dumps({"type": "message", "client_id": client_id, "text": text,
                                         "payload": payload}))
    ack = await widget.next("ack")
    assert ack["client_id"] == client_id
    return ack["message"]  # type: ignore[no-any-return]


async def events_of(db: Db, conversation_id: str) -> list[dict[str, Any]]:
    return [doc async for doc in db["events"].find({"conversation_id": conversation_id}).sort("version", 1)]


async def test_stars_in_the_widget_close_the_conversation_with_the_score_and_count_in_csat(
        hub: RunningHub, http: aiohttp.ClientSession, alice: AgentClient, db: Db) -> None:
    widget, conversation_id = await resolved_chat(hub, http, alice)
    asked = await question(widget)
    assert [b["payload"] for b in asked["buttons"]] == [f"survey:{n}" for n in range(1, 6)]

    answer = await press(widget, "4", "survey:4")
    assert answer["conversation_id"] == conversation_id  # no new conversation

    async def closed() -> bool:
        return (await hub.context.conversations.get(conversation_id)).state.value == "closed"

    await eventually(closed, timeout=10)
    last = (await events_of(db, conversation_id))[-1]
    assert (last["type"], last["detail"]["score"], last["agent_id"], last["channel"]) == (
        "survey_answered", "4", alice.agent["id"], "webchat")
    assert await db["conversations"].count_documents({}) == 1  # the answer reached neither bot nor agent
    assert (await db["surveys"].find_one({"_id": conversation_id}))["score"] == 4

    sara = await AgentClient(hub.base_url).login("sara")
    try:
        async def counted() -> dict[str, Any] | None:
            total = (await sara.call("GET", "/api/kpi/today"))["total"]
            return total if total["surveys_answered"] == 1 else None

        total = await eventually(counted, timeout=15)
        assert (total["csat"], total["csat_mean"]) == (1.0, 4.0)
        day = (await sara.call("GET", "/api/kpi/today"))["day"]
        drill = await sara.call("GET", f"/api/kpi/conversations?from={day}&to={day}&figure=surveys_answered")
        assert [(c["conversation_id"], c["score"]) for c in drill["conversations"]] == [(conversation_id, 4)]
    finally:
        await sara.close()
    await widget.close()


async def test_a_miss_is_asked_again_once_then_the_message_goes_on_as_a_new_conversation(
        hub: RunningHub, http: aiohttp.ClientSession, alice: AgentClient, db: Db) -> None:
    widget, conversation_id = await resolved_chat(hub, http, alice)
    await question(widget)
    first = await press(widget, "meh")
    assert first["conversation_id"] == conversation_id
    await question(widget)  # the one re-ask
    second = await press(widget, "hello again")
    assert second["conversation_id"] != conversation_id  # a normal message: a new conversation
    survey = await db["surveys"].find_one({"_id": conversation_id})
    assert (survey["state"], survey["reasks"], survey["score"]) == ("stopped", 1, None)
    asked = [m for m in await hub.context.messages.timeline(conversation_id, include_private=True)
             if m.author.value == "system"]
    assert len(asked) == 2  # never a third question
    assert (await hub.context.conversations.get(conversation_id)).state.value == "resolved"
    await widget.close()


def link_for(hub: RunningHub, conversation_id: str, expires_in: timedelta) -> str:
    key = survey_links.link_key(hub.context.settings.secret_key.get_secret_value().encode())
    token = survey_links.sign(key, conversation_id, hub.context.clock.now() + expires_in)
    return f"{hub.base_url}/survey/{token}"


async def test_the_signed_survey_page_records_one_answer_and_refuses_forged_expired_and_cross_site(
        hub: RunningHub, http: aiohttp.ClientSession, alice: AgentClient, db: Db) -> None:
    widget, conversation_id = await resolved_chat(hub, http, alice)
    await question(widget)
    link = link_for(hub, conversation_id, timedelta(hours=1))
    forged = link[:-3] + ("AAA" if not link.endswith("AAA") else "BBB")
    expired = link_for(hub, conversation_id, timedelta(seconds=-1))
    other = f"{hub.base_url}/survey/" + survey_links.sign(b"another key", conversation_id,
                                                          hub.context.clock.now() + timedelta(hours=1))
    for url, status in ((forged, 404), (other, 404), (expired, 410), (f"{hub.base_url}/survey/x", 404)):
        async with http.get(url) as resp:
            assert resp.status == status, url
        async with http.post(url, data={"score": "5"}) as resp:
            assert resp.status == status, url

    async with http.get(link) as resp:
        page = await resp.text()
        assert resp.status == 200 and "<script" not in page
        assert page.count('name="score"') == 5
    async with http.post(link, data={"score": "5"}, headers={"Origin": "https://evil.example"}) as resp:
        assert resp.status == 403
    async with http.post(link, data={"score": "9"}) as resp:
        assert resp.status == 400
    assert (await db["surveys"].find_one({"_id": conversation_id}))["state"] == "open"
    async with http.post(link, data={"score": "5"}, headers={"Origin": hub.base_url}) as resp:
        assert resp.status == 200
    async with http.post(link, data={"score": "1"}) as resp:
        assert resp.status == 409  # one answer
    assert (await db["surveys"].find_one({"_id": conversation_id}))["score"] == 5
    await eventually(lambda: _closed(hub, conversation_id), timeout=10)
    statuses = []
    for _ in range(20):  # one client hammering the page: limited (HUB_SURVEYS__PAGE_PER_MINUTE)
        async with http.get(forged) as resp:
            statuses.append(resp.status)
    assert statuses[-1] == 429 and set(statuses) == {404, 429}
    await widget.close()


async def _closed(hub: RunningHub, conversation_id: str) -> bool:
    return (await hub.context.conversations.get(conversation_id)).state.value == "closed"


async def test_telegram_buttons_answer_the_survey(db_name: str, mongo_url: str, redis_url: str, redis: Redis,
                                                  db: Db) -> None:
    async with BotApiStandIn() as standin:
        settings = surveyed(telegram_settings(make_settings(db_name), standin))
        async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as tg_hub:
            await load_demo(tg_hub.context.directory)
            await wait_until_receiving(standin)
            agent = await AgentClient.online(tg_hub.base_url, "alice")
            try:
                user = standin.user("Mei", "Chen")
                await standin.send_text(user, "my meter is broken")
                conversation_id = await agent.take_offer(timeout=15)
                await agent.call("POST", f"/api/conversations/{conversation_id}/resolve")
                await eventually(lambda: any("reply_markup" in m for m in standin.sent_to(user)), timeout=15)
                asked = next(m for m in standin.sent_to(user) if "reply_markup" in m)
                buttons = [b for row in asked["reply_markup"]["inline_keyboard"] for b in row]
                assert [b["callback_data"] for b in buttons] == [f"survey:{n}" for n in range(1, 6)]

                await standin.press_button(user, asked["message_id"], "survey:2")
                await eventually(lambda: _closed(tg_hub, conversation_id), timeout=15)
                last = (await events_of(db, conversation_id))[-1]
                assert (last["type"], last["detail"]["score"], last["channel"]) == ("survey_answered", "2",
                                                                                    "telegram")
                assert await db["conversations"].count_documents({}) == 1
            finally:
                await agent.close()


async def test_an_email_customer_gets_the_signed_link_and_answers_on_the_page(
        db_name: str, mongo_url: str, redis_url: str, redis: Redis, db: Db, http: aiohttp.ClientSession) -> None:
    with running_mail_server() as mail:
        settings = surveyed(make_settings(db_name).model_copy(update={"email": email_settings(mail, SUPPORT)}))
        async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as mail_hub:
            await load_demo(mail_hub.context.directory)
            agent = await AgentClient.online(mail_hub.base_url, "alice")
            try:
                customer = customer_address()
                await smtp_send(mail, customer_mail(customer, "My bill doubled", subject="Bill"), sender=customer,
                                recipients=[SUPPORT])
                conversation_id = await agent.take_offer(timeout=20)
                await agent.call("POST", f"/api/conversations/{conversation_id}/resolve")

                async def asked() -> str | None:
                    texts = [plain_text(m) for m in await mailbox(mail, customer, "INBOX")]
                    return next((t for t in texts if "/survey/" in t), None)

                text = await eventually(asked, timeout=20)
                link = next(word for word in text.split() if "/survey/" in word)
                assert link.startswith(f"{mail_hub.base_url}/survey/")
                async with http.get(link) as resp:
                    assert resp.status == 200
                async with http.post(link, data={"score": "3"}) as resp:
                    assert resp.status == 200
                await eventually(lambda: _closed(mail_hub, conversation_id), timeout=15)
                event = await db["events"].find_one({"conversation_id": conversation_id, "type": "survey_answered"})
                assert (event["detail"]["score"], event["channel"]) == ("3", "email")
            finally:
                await agent.close()
