"""The widget's delivered and read frames are coalesced per conversation (ADR 0062): sent together
for several agent messages, as the widget does, they cost one write and one fact per message at
its furthest status, not an update and a fact per frame and message; counted with SecantusDB's own
opcounters."""

from __future__ import annotations

import asyncio

import aiohttp
from redis.asyncio import Redis

from hub.bootstrap import RunningHub
from hub.bus import RedisEventBus
from hub.domain.events import StatusChanged
from hub.storage.database import Db
from tests import opcounts
from tests.clients import AgentClient, WidgetClient

REPLIES = 3


async def test_delivered_and_read_frames_together_are_one_write(
        hub: RunningHub, agent: AgentClient, http: aiohttp.ClientSession, db: Db, redis: Redis) -> None:
    widget = WidgetClient(hub.base_url, http)
    await widget.connect()
    await widget.say("my meter shows nothing")
    conversation_id = await agent.take_offer()
    replies = [(await agent.reply(conversation_id, f"step {n}"))["id"] for n in range(REPLIES)]
    for _ in replies:
        await widget.next("message")

    told: asyncio.Queue[StatusChanged] = asyncio.Queue()

    async def heard(fact: StatusChanged) -> None:
        if fact.conversation_id == conversation_id:
            await told.put(fact)

    async with RedisEventBus(redis) as bus:
        bus.subscribe(StatusChanged, heard)
        before = await opcounts.settled(db, opcounts.WRITES)
        assert widget.ws is not None
        await widget.ws.send_json({"type": "delivered", "message_ids": replies})
        await widget.ws.send_json({"type": "read", "message_ids": replies})
        read = [await asyncio.wait_for(told.get(), 10) for _ in replies]
        assert {(f.message_id, f.status.value) for f in read} == {(m, "read") for m in replies}
        assert await opcounts.settled(db, opcounts.WRITES) - before == 1, "one write for both frames"
        assert told.empty(), "no 'delivered' fact for messages already read"
    for message_id in replies:
        stored = await hub.context.messages.get(message_id)
        assert stored is not None and stored.status.value == "read"
    status = await agent.next("status", message_id=replies[-1])
    assert status["status"] == "read"
