"""A conversation's inbox line rides with its next receipt (issue 11, ADR 0063) in a document of its
own (``inbox_lines``, ADR 0067): a customer's message, the agent's reply and the message's delivered
receipt (the console gathers receipts for ``RECEIPT_GATHER_S``, longer than the receipts' flush) are
one update of the line and none of the conversation; a line nobody awaits is still written within
``line_flush_s``, and another conversation's receipt does not take it early. Every reader of the
conversation documents sees the line's fields as before (one ``$in`` per page), conversations stored
by an older hub keep theirs (migrated at start, once). Counted with SecantusDB's own opcounters and
``top`` (``tests/opcounts.py``)."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp

from console.live import RECEIPT_GATHER_S
from hub.bootstrap import RunningHub
from hub.domain.finding import Filters
from hub.domain.ids import Author, ConversationId, DeliveryStatus, ExternalId, MessageId
from hub.domain.model import Message
from hub.domain.states import ConversationState
from hub.storage.conversation_search import MongoConversationSearch
from hub.storage.conversations import MongoConversationStore
from hub.storage.database import Db
from hub.storage.inbox_lines import migrate
from hub.storage.messages import MongoMessageStore
from tests import opcounts
from tests.clients import AgentClient, WidgetClient
from tests.conftest import eventually

T0 = datetime(2026, 12, 4, 9, 0, tzinfo=UTC)
FLUSH_S = 0.05  # the receipts' flush (HUB_MESSAGES__SUMMARY_FLUSH_MS's default)


def _message(conversation: str, n: int, author: Author = Author.CUSTOMER) -> Message:
    return Message(id=MessageId(f"m_{uuid.uuid4().hex}"), conversation_id=ConversationId(conversation),
                   channel="webchat", author=author, author_id="k_1" if author is Author.CUSTOMER else "a_1",
                   author_name="Someone", text=f"{conversation} {author.value} {n}",
                   sent_at=T0 + timedelta(seconds=n), status=DeliveryStatus.SENT,
                   external_id=ExternalId(f"v:{uuid.uuid4().hex}") if author is Author.CUSTOMER else None)


def _conversation(cid: str, n: int, **fields: Any) -> dict[str, Any]:
    """A stored conversation as ``MongoConversationStore.create`` writes it, assigned to ``a_1``."""
    return {"_id": cid, "contact_id": f"k_{cid}", "contact_name": "Someone", "channel": "webchat",
            "state": "assigned", "version": 2, "queue": "general", "priority": 0, "skills": [], "agent_id": "a_1",
            "created_at": T0, "updated_at": T0 + timedelta(minutes=n), "language": "en", "preview": "", "unread": 0,
            **fields}


async def _conversations(db: Db, *ids: str) -> None:
    await db["conversations"].insert_many([_conversation(cid, n) for n, cid in enumerate(ids)])


async def test_a_round_trip_and_its_delivered_receipt_are_one_update_of_the_line(db: Db) -> None:
    await _conversations(db, "c_rt")
    async with MongoMessageStore(db, summary_flush_s=FLUSH_S, line_flush_s=10.0) as store:
        before, by0 = await opcounts.opcounters(db), await opcounts.by_collection(db)
        customer = (await store.add(_message("c_rt", 1))).message
        await store.add(_message("c_rt", 2, Author.AGENT))
        await asyncio.sleep(RECEIPT_GATHER_S + FLUSH_S)  # the console's receipt comes this much later
        assert "update" not in opcounts.difference(before, await opcounts.opcounters(db)), \
            "the inbox line waits for the receipt"
        await store.delivered({"c_rt": customer.sent_at})  # returns once stored
        assert opcounts.difference(before, await opcounts.opcounters(db)) == {"insert": 2, "update": 1}
        moved = opcounts.collection_difference(by0, await opcounts.by_collection(db))
        assert moved["inbox_lines"].get("update") == 1
        assert "conversations" not in moved, "the conversation document does not change per message"
        assert store.summaries.flushes == 1
        timeline = await store.timeline("c_rt", include_private=True)
    line = await db["inbox_lines"].find_one({"_id": "c_rt"})
    assert line is not None
    assert (line["preview"], line["unread"], line["last_message_at"]) == ("c_rt agent 2", 1, T0 + timedelta(seconds=2))
    assert line["delivered_until"] == T0 + timedelta(seconds=1)
    assert [m.status for m in timeline] == [DeliveryStatus.DELIVERED, DeliveryStatus.SENT]
    doc = await MongoConversationStore(db).get_doc("c_rt")
    assert (doc["preview"], doc["unread"], doc["state"]) == ("c_rt agent 2", 1, "assigned")


async def test_a_line_without_a_receipt_is_written_within_its_time_and_others_receipts_leave_it(db: Db) -> None:
    await _conversations(db, "c_alone", "c_other")
    async with MongoMessageStore(db, summary_flush_s=FLUSH_S, line_flush_s=1.0) as store:
        before = await opcounts.opcounters(db)
        await store.add(_message("c_alone", 1))
        other = (await store.add(_message("c_other", 1))).message
        await store.delivered({"c_other": other.sent_at})  # flushes c_other only
        assert store.summaries.flushes == 1
        assert await db["inbox_lines"].find_one({"_id": "c_alone"}) is None, \
            "another conversation's receipt took the line early"

        async def alone_written() -> bool:
            line = await db["inbox_lines"].find_one({"_id": "c_alone"})
            return line is not None and line["preview"] == "c_alone customer 1" and line["unread"] == 1

        await eventually(alone_written)
        assert opcounts.difference(before, await opcounts.opcounters(db))["update"] == 2


async def test_every_reader_of_conversation_documents_sees_the_lines_one_query_per_page(db: Db) -> None:
    ids = [f"c_page{n}" for n in range(5)]
    await _conversations(db, *ids)
    await db["conversations"].update_one({"_id": "c_page0"}, {"$set": {
        "snoozed_until": T0 + timedelta(hours=1), "snoozed_at": T0}})
    async with MongoMessageStore(db) as store:  # written at once
        for n, cid in enumerate(ids):
            await store.add(_message(cid, n))
    conversations, search = MongoConversationStore(db), MongoConversationSearch(db)
    await opcounts.settled(db)
    by0 = await opcounts.by_collection(db)
    held = await conversations.held_by("a_1", frozenset({ConversationState.ASSIGNED}))
    assert opcounts.collection_difference(by0, await opcounts.by_collection(db))["inbox_lines"] == {"queries": 1}
    assert [(d["_id"], d["preview"], d["unread"]) for d in held] == [
        (cid, f"{cid} customer {n}", 1) for n, cid in reversed(list(enumerate(ids)))]  # latest changed first
    listed = await search.listed(Filters(), states=[ConversationState.ASSIGNED], agents=None, ids=None, limit=3)
    assert [(d["_id"], d["preview"]) for d in listed] == [(cid, f"{cid} customer {n}") for n, cid in
                                                          reversed(list(enumerate(ids)))][:3]
    [snoozed] = await conversations.snoozed()
    assert snoozed["last_customer_at"] == T0  # the customer wrote after the snooze began: she wakes it


async def test_conversations_of_an_older_hub_keep_their_lines_migrated_once(db: Db) -> None:
    old = {"preview": "old text", "unread": 3, "last_message_at": T0, "delivered_until": T0,
           "read_until": T0 - timedelta(minutes=1), "last_customer_at": T0}
    await db["conversations"].insert_many([_conversation("c_old", 1, **old), _conversation("c_new", 0)])
    assert await migrate(db) == 1  # the new-shape conversation has nothing to move
    assert await migrate(db) == 0  # done once
    doc = await MongoConversationStore(db).get_doc("c_old")
    assert {name: doc[name] for name in old} == old
    assert (await MongoConversationStore(db).get_doc("c_new"))["preview"] == ""  # no line: its own fields
    async with MongoMessageStore(db) as store:  # counts on from what the older hub counted
        await store.add(_message("c_old", 5))
    doc = await MongoConversationStore(db).get_doc("c_old")
    assert (doc["preview"], doc["unread"]) == ("c_old customer 5", 4)
    await db["migrations"].delete_many({})  # interrupted before its end: run again, changes no line
    assert await migrate(db) == 0
    assert (await MongoConversationStore(db).get_doc("c_old"))["unread"] == 4


async def test_a_web_chat_round_trip_changes_no_conversation_and_the_inbox_shows_its_line(
        hub: RunningHub, db: Db, http: aiohttp.ClientSession) -> None:
    alice = await AgentClient.online(hub.base_url, "alice")
    widget = WidgetClient(hub.base_url, http)
    try:
        await widget.connect()
        await widget.say("hello")
        conversation_id = await alice.take_offer()
        await opcounts.settled(db, opcounts.WRITES)
        by0 = await opcounts.by_collection(db)
        await widget.send("my meter is dark")
        await alice.next("message", timeout=10)
        await alice.reply(conversation_id, "looking at it")
        while (await widget.next("message", timeout=10))["message"]["text"] != "looking at it":
            pass

        async def line_written() -> bool:
            line = await db["inbox_lines"].find_one({"_id": conversation_id})
            return line is not None and line.get("preview") == "looking at it" and "delivered_until" in line

        await eventually(line_written)
        moved = opcounts.collection_difference(by0, await opcounts.by_collection(db))
        assert "update" not in moved.get("conversations", {}), moved
        inbox = await alice.call("GET", "/api/inbox")
        [line] = [s for s in inbox["assigned"] if s["id"] == conversation_id]
        assert (line["preview"], line["unread"]) == ("looking at it", 2)
        found = await alice.call("GET", "/api/conversations?view=mine")
        assert [s["preview"] for s in found["conversations"] if s["id"] == conversation_id] == ["looking at it"]
        await alice.call("POST", f"/api/conversations/{conversation_id}/read")
        view = await alice.call("GET", f"/api/conversations/{conversation_id}")
        assert (view["conversation"]["preview"], view["conversation"]["unread"]) == ("looking at it", 0)
    finally:
        await widget.close()
        await alice.close()
