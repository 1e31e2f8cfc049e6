"""A conversation's inbox line rides with its next receipt (issue 11, ADR 0063): a customer's
message, the agent's reply and the message's delivered receipt (the console gathers receipts for
``RECEIPT_GATHER_S``, longer than the receipts' flush) are one update of the conversation, not two;
a line nobody awaits is still written within ``line_flush_s``, and another conversation's receipt
does not take it early. Counted with SecantusDB's own opcounters (``tests/opcounts.py``)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

from console.live import RECEIPT_GATHER_S
from hub.domain.ids import Author, ConversationId, DeliveryStatus, ExternalId, MessageId
from hub.domain.model import Message
from hub.storage.database import Db
from hub.storage.messages import MongoMessageStore
from tests import opcounts
from tests.conftest import eventually

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
FLUSH_S = 0.05  # the receipts' flush (HUB_MESSAGES__SUMMARY_FLUSH_MS's default)


def _message(conversation: str, n: int, author: Author = Author.CUSTOMER) -> Message:
    return Message(id=MessageId(f"m_{uuid.uuid4().hex}"), conversation_id=ConversationId(conversation),
                   channel="webchat", author=author, author_id="k_1" if author is Author.CUSTOMER else "a_1",
                   author_name="Someone", text=f"{conversation} {author.value} {n}",
                   sent_at=T0 + timedelta(seconds=n), status=DeliveryStatus.SENT,
                   external_id=ExternalId(f"v:{uuid.uuid4().hex}") if author is Author.CUSTOMER else None)


async def _conversations(db: Db, *ids: str) -> None:
    await db["conversations"].insert_many([{"_id": cid, "unread": 0, "preview": ""} for cid in ids])


async def test_a_round_trip_and_its_delivered_receipt_are_one_update_of_the_conversation(db: Db) -> None:
    await _conversations(db, "c_rt")
    async with MongoMessageStore(db, summary_flush_s=FLUSH_S, line_flush_s=10.0) as store:
        before = await opcounts.opcounters(db)
        customer = (await store.add(_message("c_rt", 1))).message
        await store.add(_message("c_rt", 2, Author.AGENT))
        await asyncio.sleep(RECEIPT_GATHER_S + FLUSH_S)  # the console's receipt comes this much later
        assert "update" not in opcounts.difference(before, await opcounts.opcounters(db)), \
            "the inbox line waits for the receipt"
        await store.delivered("c_rt", customer.sent_at)  # returns once stored
        assert opcounts.difference(before, await opcounts.opcounters(db)) == {"insert": 2, "update": 1}
        assert store.summaries.flushes == 1
        timeline = await store.timeline("c_rt", include_private=True)
    doc = await db["conversations"].find_one({"_id": "c_rt"})
    assert doc is not None
    assert (doc["preview"], doc["unread"], doc["last_message_at"]) == ("c_rt agent 2", 1, T0 + timedelta(seconds=2))
    assert doc["delivered_until"] == T0 + timedelta(seconds=1)
    assert [m.status for m in timeline] == [DeliveryStatus.DELIVERED, DeliveryStatus.SENT]


async def test_a_line_without_a_receipt_is_written_within_its_time_and_others_receipts_leave_it(db: Db) -> None:
    await _conversations(db, "c_alone", "c_other")
    async with MongoMessageStore(db, summary_flush_s=FLUSH_S, line_flush_s=1.0) as store:
        before = await opcounts.opcounters(db)
        await store.add(_message("c_alone", 1))
        other = (await store.add(_message("c_other", 1))).message
        await store.delivered("c_other", other.sent_at)  # flushes c_other only
        assert store.summaries.flushes == 1
        doc = await db["conversations"].find_one({"_id": "c_alone"})
        assert doc is not None and doc["preview"] == "", "another conversation's receipt took the line early"

        async def alone_written() -> bool:
            doc = await db["conversations"].find_one({"_id": "c_alone"})
            return doc is not None and doc["preview"] == "c_alone customer 1" and doc["unread"] == 1

        await eventually(alone_written)
        assert opcounts.difference(before, await opcounts.opcounters(db))["update"] == 2
