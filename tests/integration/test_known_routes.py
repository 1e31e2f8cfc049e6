"""Where a conversation's replies go, known to the process (issue 11, ADR 0061), against a real
SecantusDB and the real Redis bus, reads counted with the server's own opcounters.

* The first reply reads the conversation's thread; the next ones read nothing, and a customer
  message this process stores, or a send it made, joins the known thread (no read, right route).
* A customer message another process stored (its ``MessageStored`` fact names a message this
  process does not hold) drops the entry: the next reply reads again and goes where it says.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from hub.bus import RedisEventBus
from hub.conversations.known_routes import KnownRoutes
from hub.domain.events import MessageStored
from hub.domain.ids import Author, ConversationId, DeliveryStatus, ExternalId, MessageId
from hub.domain.model import Message
from hub.domain.outbound import reply_route
from hub.storage.database import Db
from hub.storage.messages import MongoMessageStore
from hub.wire import message_json
from tests.conftest import eventually

CONVERSATION = ConversationId("c_routes")
T0 = datetime(2026, 12, 4, 8, 0, tzinfo=UTC)


def customer(n: int, channel: str, address: str, to: str = "95598") -> Message:
    return Message(id=MessageId(f"m_in{n}"), conversation_id=CONVERSATION, channel=channel, author=Author.CUSTOMER,
                   author_id="k_1", author_name="王女士", text=f"问题 {n}", sent_at=T0 + timedelta(minutes=n),
                   status=DeliveryStatus.SENT, external_id=ExternalId(f"ext-{n}"), address=address, meta={"to": to})


async def _reads(db: Db) -> int:
    counters = (await db.client.admin.command("serverStatus"))["opcounters"]
    return int(counters["query"]) + int(counters["getmore"])


@pytest.fixture
async def messages(db: Db) -> AsyncIterator[MongoMessageStore]:
    async with MongoMessageStore(db) as store:
        yield store


@pytest.fixture
async def buses(redis: Redis) -> AsyncIterator[tuple[RedisEventBus, RedisEventBus]]:
    """This process's end of the seam and another process's."""
    async with RedisEventBus(redis) as ours, RedisEventBus(redis) as theirs:
        yield ours, theirs


async def test_replies_read_the_thread_once_and_another_process_s_message_is_read_again(
        db: Db, messages: MongoMessageStore, buses: tuple[RedisEventBus, RedisEventBus]) -> None:
    ours, theirs = buses
    routes = KnownRoutes(messages, ttl_s=3600)
    routes.listen(ours)
    seen: list[str] = []

    async def probe(fact: MessageStored) -> None:
        seen.append(str(fact.message["id"]))
    ours.subscribe(MessageStored, probe, subscriber="test:probe")
    await messages.add(customer(1, "sms", "+8613800138000"))

    first = reply_route(await routes.thread(CONVERSATION), "sms")
    assert (first.channel, first.address, first.thread["to"]) == ("sms", "+8613800138000", "95598")
    assert routes.reads == 1
    reads = await _reads(db)
    for _ in range(3):
        assert reply_route(await routes.thread(CONVERSATION), "sms") == first
    # This process's own customer message and its fact: known, still no read.
    second = customer(2, "sms", "+8613800138000", to="10086")
    await messages.add(second)
    routes.stored(second)
    await ours.publish(MessageStored(conversation_id=CONVERSATION, holder=None,
                                     message=message_json(second, live=())))
    # A send this process made: its provider id joins the thread (e-mail's References need it).
    routes.sent({"_id": "m_out1", "conversation_id": CONVERSATION, "channel": "sms",
                 "sent_at": T0 + timedelta(minutes=3)}, ["m_out1"])
    await eventually(lambda: "m_in2" in seen)
    route = reply_route(await routes.thread(CONVERSATION), "sms")
    assert route.thread["to"] == "10086" and route.thread["references"] == "ext-1 ext-2 m_out1"
    assert await _reads(db) == reads and routes.reads == 1
    assert routes.knows(CONVERSATION), "this process's own message is no news"

    # Another process stored the customer's e-mail: its fact drops the entry, the next reply reads.
    mail = customer(4, "email", "wang@example.org")
    await messages.add(mail)
    await theirs.publish(MessageStored(conversation_id=CONVERSATION, holder=None, message=message_json(mail, live=())))
    await eventually(lambda: not routes.knows(CONVERSATION))
    route = reply_route(await routes.thread(CONVERSATION), "sms")
    assert (route.channel, route.address, routes.reads) == ("email", "wang@example.org", 2)
