"""Messages in MongoDB: stored through the group-commit writer (``hub.storage.message_writer``),
read by conversation (the timeline, a reply's route and thread), and the receipts' watermarks and
inbox lines written by ``hub.storage.summaries`` (ADR 0032, 0067).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from pymongo import UpdateOne

from hub.domain.ids import Author, DeliveryStatus
from hub.domain.model import Message
from hub.storage.database import Db
from hub.storage.inbox_lines import MongoInboxLines
from hub.storage.message_docs import inbound_key, message_from_doc, with_watermark
from hub.storage.message_writer import MAX_BATCH, MessageWriter, Stored
from hub.storage.summaries import ConversationSummaries

REPLY_THREAD_LIMIT = 1000  # newest messages a reply's route and thread are read from


class MongoMessageStore:
    """Owns the writer task and the summary writer between ``async with`` and its exit.

    ``gather_s``: how long a woken writer lets further messages join before it writes;
    ``summary_flush_s``: how soon the conversations' receipts are written, ``line_flush_s`` the
    longest an inbox line waits to ride with one (default ``summary_flush_s``)."""

    def __init__(self, db: Db, *, gather_s: float = 0.0, max_batch: int = MAX_BATCH,
                 summary_flush_s: float = 0.0, line_flush_s: float | None = None) -> None:
        self._messages = db["messages"]
        self._lines = MongoInboxLines(db)
        self.summaries = ConversationSummaries(db, flush_s=summary_flush_s, line_s=line_flush_s)
        self.writer = MessageWriter(db, self.summaries.note, gather_s=gather_s, max_batch=max_batch)

    async def __aenter__(self) -> MongoMessageStore:
        await self.summaries.__aenter__()
        await self.writer.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.writer.__aexit__(*exc)
        await self.summaries.__aexit__(*exc)

    @property
    def batches(self) -> int:
        """Insert commands the writer sent (tests and diagnostics)."""
        return self.writer.batches

    async def add(self, message: Message) -> Stored:
        """Store durably; returns once MongoDB acknowledged the write (or found the duplicate)."""
        return await self.writer.add(message)

    async def add_outbound(self, message: Message, outbox: Mapping[str, Any]) -> None:
        """Store a staff message and its outbox entry (``hub.storage.outbox``: the message's document
        with ``outbox``), the entry first, in the same group commit as every other message. Returns
        once both are stored; when the message is refused its entry is withdrawn (best effort: one
        left behind is sent after its lease, and the outbox stores the message then)."""
        await self.writer.add(message, outbox)

    async def delivered(self, until: Mapping[str, datetime]) -> set[str]:
        """Each conversation's customer messages up to its ``until`` reached the agent (one watermark
        per conversation, stored before this returns; ``timeline`` shows them delivered); returns the
        conversations whose watermark was stored."""
        return await self.summaries.delivered(until)

    async def clear_unread(self, conversation_id: str) -> None:
        await self.summaries.clear_unread(conversation_id)

    async def last_inbound(self, conversation_id: str) -> Message | None:
        """The customer's latest message: replies go back where the customer last wrote."""
        cursor = self._messages.find({"conversation_id": conversation_id, "inbound": True}).sort("sent_at", -1)
        async for doc in cursor.limit(1):
            return message_from_doc(doc)
        return None

    async def reply_thread(self, conversation_id: str) -> list[dict[str, Any]]:
        """What a reply's route and thread are made of (``hub.domain.outbound.reply_route``): the
        conversation's inbound messages and sent ones with provider ids, oldest first, the newest
        ``limit`` of them. One read by the timeline index; a conversation is short."""
        cursor = self._messages.find(
            {"conversation_id": conversation_id},
            {"channel": 1, "inbound": 1, "address": 1, "external_id": 1, "provider_ids": 1, "meta": 1, "sent_at": 1},
        ).sort("sent_at", -1).limit(REPLY_THREAD_LIMIT)
        newest_first = [doc async for doc in cursor if doc.get("inbound") or doc.get("provider_ids")]
        return newest_first[::-1]

    async def last_from(self, conversation_id: str, author: Author) -> Message | None:
        cursor = self._messages.find({"conversation_id": conversation_id, "author": author.value}).sort("sent_at", -1)
        async for doc in cursor.limit(1):
            return message_from_doc(doc)
        return None

    async def find_inbound(self, channel: str, external_id: str) -> Message | None:
        doc = await self._messages.find_one({"inbound_key": inbound_key(channel, external_id)})
        return message_from_doc(doc) if doc else None

    async def get(self, message_id: str) -> Message | None:
        doc = await self._messages.find_one({"_id": message_id})
        return message_from_doc(doc) if doc else None

    async def timeline(self, conversation_id: str, *, include_private: bool,
                       since: datetime | None = None, limit: int = 500) -> list[Message]:
        query: dict[str, Any] = {"conversation_id": conversation_id}
        if not include_private:
            query["private"] = False
        if since is not None:
            query["sent_at"] = {"$gte": since}
        cursor = self._messages.find(query).sort("sent_at", 1).limit(limit)
        messages = [message_from_doc(doc) async for doc in cursor]
        if not any(m.author is Author.CUSTOMER and m.status is not DeliveryStatus.READ for m in messages):
            return messages
        line = await self._lines.line(conversation_id, ("delivered_until", "read_until"))
        return [with_watermark(m, (line or {}).get("delivered_until"), (line or {}).get("read_until"))
                for m in messages]

    async def advance_status(self, message_ids: list[str], status: DeliveryStatus,
                             conversation_id: str, authors: frozenset[Author]) -> list[str]:
        """Move messages of ``authors`` forward to ``status`` (never backward); returns the ids that changed."""
        lower = [s.value for s in DeliveryStatus if s.rank() < status.rank()]
        query: dict[str, Any] = {"conversation_id": conversation_id, "status": {"$in": lower},
                                 "author": {"$in": sorted(a.value for a in authors)}}
        if len(message_ids) == 1:  # the common receipt: one round trip, not a find and an update
            result = await self._messages.update_one({**query, "_id": message_ids[0]},
                                                     {"$set": {"status": status.value}})
            return message_ids if result.modified_count else []
        changed = [doc["_id"] async for doc in self._messages.find({**query, "_id": {"$in": message_ids}}, {"_id": 1})]
        if changed:
            await self._messages.bulk_write(
                [UpdateOne({"_id": mid, "status": {"$in": lower}}, {"$set": {"status": status.value}})
                 for mid in changed], ordered=False)
        return changed

    async def unread_from(self, conversation_id: str, author: Author) -> list[str]:
        query = {"conversation_id": conversation_id, "author": author.value, "status": {"$ne": "read"}}
        return [doc["_id"] async for doc in self._messages.find(query, {"_id": 1})]

    async def unread_by_agents(self, conversation_id: str, limit: int) -> list[tuple[str, datetime]]:
        """The customer's messages past the read watermark this process knows (all not marked read
        when it knows none), newest first, at most ``limit``: ``(id, sent_at)``; one read."""
        query: dict[str, Any] = {"conversation_id": conversation_id, "author": Author.CUSTOMER.value,
                                 "status": {"$ne": DeliveryStatus.READ.value}}
        known = self.summaries.read_until(conversation_id)
        if known is not None:
            query["sent_at"] = {"$gt": known}
        cursor = self._messages.find(query, {"_id": 1, "sent_at": 1}).sort("sent_at", -1).limit(limit)
        return [(doc["_id"], doc["sent_at"]) async for doc in cursor]

    async def read_until(self, conversation_id: str, until: datetime | None) -> None:
        """The agents read the conversation's customer messages up to ``until`` (one watermark, in the
        summary writer's next bulk write, with ``unread`` cleared); returns once stored."""
        await self.summaries.read(conversation_id, until)
