"""A send holds its slot and its conversation's lane only until the channel answered: writing what
the channel said (gathered with other sends' outcomes, ``hub.storage.outbox_states``) holds up no
other send. Before, a slot was held through that write, so the outcomes' batching window (20 ms)
and the database's latency capped how many SMS left per second (bench/README.md)."""

from __future__ import annotations

from datetime import UTC, datetime

from redis.asyncio import Redis

from hub.bus import RedisEventBus
from hub.clock import SystemClock
from hub.domain.ids import Author, ConversationId, DeliveryStatus, MessageId
from hub.domain.model import Message
from hub.domain.outbound import Outbound, SendResult
from hub.outbox import Outbox
from hub.storage.database import Db
from hub.storage.messages import MongoMessageStore
from hub.storage.outbox import MongoOutboxStore
from hub.storage.outbox_states import OutboxStates
from tests.conftest import eventually


class TakingSender:
    """A channel that takes every message at once."""

    channel = "sms"

    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, outbound: Outbound) -> SendResult:
        self.sent.append(outbound.text)
        return SendResult(provider_ids=(f"p-{outbound.message_id}",), status=DeliveryStatus.SENT)


def reply(n: int, conversation: str, text: str) -> Message:
    return Message(id=MessageId(f"m_turn{n}"), conversation_id=ConversationId(conversation), channel="sms",
                   author=Author.AGENT, author_id="a_1", author_name="Alice", text=text,
                   sent_at=datetime.now(UTC), status=DeliveryStatus.QUEUED, address="+8613800138000")


async def test_the_next_send_leaves_while_the_one_before_still_waits_for_its_outcome_write(db: Db,
                                                                                           redis: Redis) -> None:
    store = MongoOutboxStore(db)
    store.states = OutboxStates(db, gather_s=3600)  # no outcome is written until the outbox stops
    sender = TakingSender()
    async with (RedisEventBus(redis) as bus, MongoMessageStore(db) as messages,
                Outbox(store=store, senders={"sms": sender}, bus=bus, clock=SystemClock(), parallel=1,
                       shutdown_grace_s=0.2) as outbox):
        # One slot: the second and third sends need the slot the first held; "two" also waits in
        # the first one's lane (same conversation), "three" does not.
        for n, (conversation, text) in enumerate((("c_t1", "one"), ("c_t1", "two"), ("c_t2", "three"))):
            message, entry = reply(n, conversation, text), outbox.claim_new()
            await messages.add_outbound(message, entry)
            outbox.dispatch(message, entry)
        await eventually(lambda: sender.sent == ["one", "two", "three"])
        assert await db["outbox"].count_documents({"outbox.state": "done"}) == 0  # outcomes still gathered
    # On the way out the gathered outcomes are written: nothing is sent twice after a restart.
    assert await db["outbox"].count_documents({"outbox.state": "done"}) == 3
    moved = await db["messages"].count_documents({"status": DeliveryStatus.SENT.value})
    assert moved == 3
