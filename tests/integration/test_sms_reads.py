"""What an inbound SMS reads from MongoDB (issue 11, ADR 0058), counted with the server's own
opcounters, through the hub's real Kannel callback (``GET /channels/sms/mo``) with surveys on.

* The contact by its phone is known to the process: a customer's next SMS reads nothing; a
  ``ContactChanged`` fact from another process (a rename) makes the next SMS read it again.
* Which addresses were asked a survey is known to the process: an SMS from any other address
  reads no survey; a survey another process asked (its ``SurveyAsked`` fact) is answered at once.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import aiohttp
import pytest
from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import RunningHub, running_hub
from hub.bus import RedisEventBus
from hub.config import (
    BotSettings,
    ConsumersSettings,
    OutagesSettings,
    OutboxSettings,
    SmsSettings,
    SnoozeSettings,
    SurveySettings,
    WorkOrdersSettings,
)
from hub.conversations.customers import CustomerInbox
from hub.domain.contacts import inbound_key
from hub.domain.events import ContactChanged, SurveyAsked
from hub.domain.surveys import key_digest
from hub.storage.database import Db
from tests import opcounts
from tests.conftest import eventually, make_settings

FAR_APART_S = 3600.0
SECRET = secrets.token_urlsafe(16)
PHONE = "+8613800138000"


@pytest.fixture
async def sms_hub(mongo_url: str, redis_url: str, redis: Redis, db_name: str) -> AsyncIterator[RunningHub]:
    settings = make_settings(db_name, sweep_s=FAR_APART_S, queues_reread_s=FAR_APART_S).model_copy(update={
        "outbox": OutboxSettings(poll_s=FAR_APART_S), "consumers": ConsumersSettings(poll_s=FAR_APART_S),
        "snooze": SnoozeSettings(poll_s=FAR_APART_S), "bot": BotSettings(idle_poll_s=FAR_APART_S),
        "work_orders": WorkOrdersSettings(sweep_s=FAR_APART_S),
        # With an SMS sender the outage notice sender runs too; its look for notices would count here.
        "outages": OutagesSettings(poll_s=FAR_APART_S),
        "surveys": SurveySettings(enabled=True, open_reread_s=FAR_APART_S),
        "sms": SmsSettings(kannel_url="http://127.0.0.1:9/cgi-bin/sendsms", secret=SECRET,
                           callback_url="http://127.0.0.1:9")})
    async with running_hub(settings, mongo_url=mongo_url, redis_url=redis_url) as running:
        await load_demo(running.context.directory)
        yield running


@pytest.fixture
async def other_process_bus(redis: Redis) -> AsyncIterator[RedisEventBus]:
    """Another hub process's end of the seam (the same Redis)."""
    async with RedisEventBus(redis) as bus:
        yield bus


class Phone:
    def __init__(self, hub: RunningHub) -> None:
        self._url = hub.base_url + "/channels/sms/mo"
        self._n = 0

    async def send(self, sender: str, text: str) -> None:
        self._n += 1
        query = (f"secret={SECRET}&from={quote(sender)}&to=95598&coding=2&charset=UTF-16BE"
                 f"&id={secrets.token_hex(6)}&text={quote(text.encode('utf-16-be'))}")
        async with aiohttp.ClientSession() as http, http.get(f"{self._url}?{query}") as resp:
            assert resp.status == 200, await resp.text()


async def _texts_from(db: Db, sender: str) -> list[dict[str, object]]:
    return await db["messages"].find({"address": sender}).sort("sent_at", 1).to_list(None)


async def test_a_customers_next_sms_reads_nothing_and_a_rename_elsewhere_is_read_again(
        sms_hub: RunningHub, db: Db, other_process_bus: RedisEventBus) -> None:
    phone = Phone(sms_hub)
    await phone.send(PHONE, "我家停电了")
    reads = await opcounts.settled(db, opcounts.READS)
    await phone.send(PHONE, "还没有来电")
    assert await opcounts.reads(db) - reads == 0, "the contact, the open conversation and the survey are known"
    first, second = await _texts_from(db, PHONE)
    assert first["conversation_id"] == second["conversation_id"]

    # Another process renames the contact: its store's write, then its fact on the seam.
    inbox = sms_hub.context.inbox
    assert isinstance(inbox, CustomerInbox) and inbox.known_contacts is not None
    known, key = inbox.known_contacts, inbound_key("sms", PHONE)
    assert known.knows(key)
    await db["contacts"].update_one({"_id": first["author_id"]}, {"$set": {"display_name": "王女士"}})
    await other_process_bus.publish(ContactChanged(contact_id=str(first["author_id"]), change="renamed"))
    await eventually(lambda: not known.knows(key))
    await phone.send(PHONE, "请尽快")
    *_, third = await _texts_from(db, PHONE)
    assert third["author_name"] == "王女士" and third["author_id"] == first["author_id"]


async def test_an_sms_reads_no_survey_unless_its_address_was_asked_one(
        sms_hub: RunningHub, db: Db, other_process_bus: RedisEventBus) -> None:
    phone, other = Phone(sms_hub), "+8613900139000"
    await phone.send(PHONE, "查询电费")
    await phone.send(other, "查询电费")
    reads = await opcounts.settled(db, opcounts.READS)
    await phone.send(other, "谢谢")
    assert await opcounts.reads(db) - reads == 0, "no survey look-up for an address never asked one"

    # Another process resolved PHONE's conversation and asked its survey: its document, then its fact.
    [opened] = await _texts_from(db, PHONE)
    conversation_id = str(opened["conversation_id"])
    now = datetime.now(UTC)
    await db["surveys"].insert_one({
        "_id": conversation_id, "contact_id": opened["author_id"], "channel": "sms",
        "key": inbound_key("sms", PHONE), "agent_id": None, "queue": "general", "language": "zh",
        "state": "open", "offered_at": now, "expires_at": now + timedelta(hours=1), "reasks": 0, "score": None,
        "answered_at": None, "asked": True, "closed": False, "refs": []})
    await other_process_bus.publish(SurveyAsked(conversation_id=conversation_id,
                                                key_digest=key_digest(inbound_key("sms", PHONE)),
                                                expires_at=now + timedelta(hours=1)))
    assert sms_hub.surveys is not None and sms_hub.surveys.keys is not None
    keys = sms_hub.surveys.keys
    await eventually(lambda: keys.knows(inbound_key("sms", PHONE)))
    assert keys.reads == 1, "read once, at the first message; the asked survey came as a fact"
    await phone.send(PHONE, "5")
    doc = await db["surveys"].find_one({"_id": conversation_id})
    assert doc is not None and doc["state"] == "answered" and doc["score"] == 5
    assert [m["text"] for m in await _texts_from(db, PHONE)] == ["查询电费"], "the score is no message"
