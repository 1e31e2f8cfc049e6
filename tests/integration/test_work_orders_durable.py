"""Work orders do not depend on the bus (ADR 0066): the bot's fault reports are a durable consumer of
the event table, and a callback survey's answer is recorded as it comes in. Both are shown with the
hub's bus deaf: Redis refuses SUBSCRIBE and the hub's listener is dropped, so no fact reaches any
subscriber (as in the gap of a re-subscription, ADR 0060, held open). Bus subscribers, as before,
never saw these facts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redis.asyncio import Redis

from hub.admin import load_demo
from hub.bootstrap import running_hub
from hub.clock import SystemClock
from hub.config import WorkOrdersSettings
from hub.domain.contacts import inbound_key
from hub.domain.events import EventType
from hub.domain.ids import Author, ContactId, ConversationId, DeliveryStatus, ExternalId, MessageId, new_id
from hub.domain.model import Conversation, Message
from hub.domain.states import ConversationState
from hub.storage.contacts import MongoContactStore
from hub.storage.conversations import MongoConversationStore
from hub.storage.database import Db
from hub.storage.messages import MongoMessageStore
from tests.bus_gap import deaf_bus
from tests.clients import AgentClient
from tests.conftest import eventually
from tests.integration.test_outbox import ScriptedSender, settings_for
from tests.sms_env import SHORT_CODE, SmsEnv, sms_environment

PHONE = "+8613500135000"
REPORT = "报修，人民路12号停电了，电话13900139000"  # noqa: RUF001
REPAIR = {"address": "1 Renmin Road", "phone": PHONE, "area": "urban", "description": "no power since 8 am"}


async def _bot_conversation(db: Db, text: str) -> Conversation:
    """An SMS conversation with the bot, the customer's report stored (what the SMS path and the bot
    leave before the handover; the handover itself goes through the hub's transitions)."""
    now = SystemClock().now()
    contact = await MongoContactStore(db).ensure(inbound_key("sms", PHONE), "Customer", now)
    conversation = await MongoConversationStore(db).create(Conversation(
        id=ConversationId(new_id("c")), contact_id=ContactId(contact["_id"]), channel="sms",
        state=ConversationState.NEW, version=0, queue=None, priority=0, skills=frozenset(), agent_id=None,
        created_at=now, updated_at=now), contact_name="Customer", actor="customer")
    async with MongoMessageStore(db) as messages:
        await messages.add(Message(
            id=MessageId(new_id("m")), conversation_id=ConversationId(conversation.id), channel="sms",
            author=Author.CUSTOMER, author_id=contact["_id"], author_name="Customer", text=text, sent_at=now,
            status=DeliveryStatus.SENT, external_id=ExternalId(new_id("mo")), address=PHONE))
    return conversation


async def test_a_fault_report_handed_over_while_the_bus_is_deaf_opens_its_order(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db) -> None:
    sender = ScriptedSender("sms")
    async with running_hub(settings_for(db_name), mongo_url=mongo_url, redis_url=redis_url,
                           channel_senders={"sms": sender}) as hub:
        await load_demo(hub.context.directory)
        conversation = await _bot_conversation(db, REPORT)
        async with deaf_bus(redis):
            with_bot = await hub.transitions.transition(conversation, ConversationState.BOT, EventType.BOT_STARTED,
                                                        actor="system")
            await hub.transitions.queue_for_humans(
                with_bot, "outages", event_type=EventType.HANDED_OVER, handover={"intent": "report_outage"},
                detail={"reason": "intent", "intent": "report_outage"})
            order = await eventually(lambda: db["work_orders"].find_one({"_id": f"wo_bot_{conversation.id}"}),
                                     timeout=20)
            assert (order["created_by"], order["state"], order["fields"]["address"]) == ("bot", "open", "人民路12号")
            await eventually(lambda: any(order["number"] in m.text and m.address == PHONE for m in sender.sent),
                             timeout=20)
        assert await db["work_orders"].count_documents({}) == 1


async def _closed_order_in_survey(env: SmsEnv, alice: AgentClient) -> tuple[str, dict[str, Any]]:
    await env.smsc.send_mo(PHONE, SHORT_CODE, "家里停电了")
    conversation_id = await alice.take_offer(timeout=20)
    order = (await alice.call("POST", "/api/work_orders", {
        "conversation_id": conversation_id, "type": "repair", "fields": REPAIR}, expect=201))["work_order"]
    await alice.call("POST", f"/api/work_orders/{order['id']}/close", {})
    texts = await env.received(PHONE, 20, count=3)  # created, closed, the survey's question
    assert f"Reply {order['number']}" in texts[2]
    await alice.call("POST", f"/api/conversations/{conversation_id}/resolve")
    return conversation_id, order


async def test_a_survey_answer_by_sms_is_recorded_while_the_bus_is_deaf(
        mongo_url: str, redis_url: str, redis: Redis, db_name: str, db: Db, tmp_path: Path) -> None:
    async with sms_environment(mongo_url=mongo_url, redis_url=redis_url, db_name=db_name, directory=tmp_path,
                               settings_update={"work_orders": WorkOrdersSettings(sweep_s=0.2)}) as env:
        alice = await AgentClient.online(env.hub.base_url, "alice")
        try:
            conversation_id, order = await _closed_order_in_survey(env, alice)
            async with deaf_bus(redis):
                await env.smsc.send_mo(PHONE, SHORT_CODE, "1")

                async def reopened() -> dict[str, Any] | None:
                    return await db["work_orders"].find_one({"_id": order["id"], "state": "reopened"})

                stored = await eventually(reopened, timeout=20)
                assert (stored["survey_score"], stored["escalation"]) == (1, "supervisor")
                answer = await db["messages"].find_one({"text": "1"})
                assert answer is not None and answer["conversation_id"] == conversation_id  # the order's own
            assert await db["conversations"].count_documents({}) == 1  # the answer opened none
        finally:
            await alice.close()
