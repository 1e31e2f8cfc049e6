"""An agent reading a conversation costs one write however many customer messages it covers: one
read watermark (``read_until``) on the conversation, in the summary writer's bulk write with
``unread`` cleared (issue 11, ADR 0058); counted with SecantusDB's own opcounters. The timeline
then shows every message read, and the customer's messages are told read only once stored."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from redis.asyncio import Redis

from hub.bootstrap import RunningHub
from hub.bus import RedisEventBus
from hub.domain.events import MessagesDelivered, StatusChanged
from hub.domain.ids import ExternalId
from hub.domain.model import InboundMessage
from hub.storage.database import Db
from tests import opcounts
from tests.clients import AgentClient

MESSAGES = 8


def _sms(n: int) -> InboundMessage:
    return InboundMessage(channel="sms", external_id=ExternalId(f"kannel-read-{n}"), sender="+8613800138000",
                          text=f"第{n}条", received_at=datetime.now(UTC), meta={"to": "95598"})


async def test_reading_many_customer_messages_is_one_write(hub: RunningHub, db: Db, redis: Redis) -> None:
    alice = await AgentClient.online(hub.base_url, "alice")
    told: asyncio.Queue[StatusChanged] = asyncio.Queue()

    async def heard(fact: StatusChanged) -> None:  # what the customer's widget is told, from the seam
        await told.put(fact)

    async with RedisEventBus(redis) as bus:
        bus.subscribe(StatusChanged, heard)
        try:
            await _read_and_count(hub, db, alice, told)
        finally:
            await alice.close()


async def _read_and_count(hub: RunningHub, db: Db, alice: AgentClient, told: asyncio.Queue[StatusChanged]) -> None:
    first = await hub.context.inbox.accept_inbound(_sms(0))
    conversation_id = first.conversation.id
    assert await alice.take_offer() == conversation_id
    for n in range(1, MESSAGES):
        await hub.context.inbox.accept_inbound(_sms(n))
    before = await opcounts.settled(db, opcounts.WRITES)
    await alice.call("POST", f"/api/conversations/{conversation_id}/read")
    assert await opcounts.writes(db) - before == 1, "one watermark, not an update per message"
    line = await db["inbox_lines"].find_one({"_id": conversation_id})  # ADR 0067
    assert line is not None and line["unread"] == 0 and line.get("read_until") is not None
    assert (await alice.call("GET", f"/api/conversations/{conversation_id}"))["conversation"]["unread"] == 0

    read = set()
    while len(read) < MESSAGES:
        fact = await asyncio.wait_for(told.get(), 10)
        if fact.status.value == "read" and fact.conversation_id == conversation_id:
            read.add(fact.message_id)
    view = await alice.call("GET", f"/api/conversations/{conversation_id}")
    customer = [e["message"] for e in view["timeline"]
                if e.get("kind") == "message" and e["message"]["author"] == "customer"]
    assert len(customer) == MESSAGES and {m["status"] for m in customer} == {"read"}
    assert {m["id"] for m in customer} == read

    # A message after the read is unread again; the next read covers only it.
    later = await hub.context.inbox.accept_inbound(_sms(MESSAGES))
    view = await alice.call("GET", f"/api/conversations/{conversation_id}")
    statuses = {e["message"]["id"]: e["message"]["status"] for e in view["timeline"] if e.get("kind") == "message"}
    assert statuses[later.message.id] != "read"
    await alice.call("POST", f"/api/conversations/{conversation_id}/read")
    fact = await asyncio.wait_for(told.get(), 10)
    while fact.status.value != "read":  # its delivered receipt may come first
        fact = await asyncio.wait_for(told.get(), 10)
    assert fact.message_id == later.message.id, "only the new one is told read"


async def test_a_batch_of_delivered_receipts_is_one_fact(hub: RunningHub, redis: Redis) -> None:
    """The console's delivered receipts go out as one ``MessagesDelivered`` per batch, not a fact per
    message (ADR 0062): the bus carries one publish however many messages the batch covers."""
    alice = await AgentClient.online(hub.base_url, "alice")
    heard: asyncio.Queue[MessagesDelivered] = asyncio.Queue()

    async def on_delivered(fact: MessagesDelivered) -> None:
        await heard.put(fact)

    try:
        first = await hub.context.inbox.accept_inbound(_sms(100))
        conversation_id = first.conversation.id
        assert await alice.take_offer() == conversation_id
        more = [await hub.context.inbox.accept_inbound(_sms(100 + n)) for n in range(1, 3)]
        batch = [(conversation_id, r.message.id, r.message.sent_at) for r in [first, *more]]
        async with RedisEventBus(redis) as bus:
            bus.subscribe(MessagesDelivered, on_delivered)
            await hub.context.desk.delivered_to_agents(batch)
            ids = {message_id for _, message_id, _ in batch}
            while True:
                fact = await asyncio.wait_for(heard.get(), 10)
                if set(fact.message_ids) == ids:
                    break
        assert [s.status.value for s in fact.statuses()] == ["delivered"] * 3
    finally:
        await alice.close()
