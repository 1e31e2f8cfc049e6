"""Messages in MongoDB, written through a group-commit writer.

Inbound messages must be durable before the channel is acknowledged, and single inserts cost a
round trip each; the writer therefore gathers whatever arrives within ``gather_s`` and while the
previous batch is in flight, customers' messages and staff replies alike, and stores it with one
unordered ``insert_many`` (at most ``max_batch``); the outbox entries of staff replies go first, in
one ``insert_many`` into ``outbox`` (ADR 0068: an entry stored without its message is repaired by
the outbox, a message stored without its entry would never be sent). A duplicate
``(channel, external_id)`` resolves to the message already stored (idempotent inbound). What the
messages change on their conversations (the inbox line, delivered receipts) is coalesced and
written by ``hub.storage.summaries`` (ADR 0032).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from bson.errors import InvalidDocument
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from hub.domain.ids import Author, ConversationId, DeliveryStatus, ExternalId, MessageId
from hub.domain.model import AttachmentRef, Message
from hub.domain.text import is_valid_unicode
from hub.errors import InvalidInput, InvalidText
from hub.storage.database import DUPLICATE_KEY, Db
from hub.storage.inbox_lines import MongoInboxLines
from hub.storage.summaries import ConversationSummaries
from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

MAX_BATCH = 500
REPLY_THREAD_LIMIT = 1000  # newest messages a reply's route and thread are read from


def inbound_key(channel: str, external_id: str) -> str:
    """What makes a customer message unique: the provider's id on its channel."""
    return f"{channel}:{external_id}"


def message_to_doc(message: Message) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_id": message.id, "conversation_id": message.conversation_id, "channel": message.channel,
        "author": message.author.value, "author_id": message.author_id, "author_name": message.author_name,
        "text": message.text, "sent_at": message.sent_at, "status": message.status.value,
        "private": message.private, "inbound": message.author is Author.CUSTOMER,
    }
    if message.external_id is not None:
        doc["external_id"] = message.external_id
        if message.author is Author.CUSTOMER:
            doc["inbound_key"] = inbound_key(message.channel, message.external_id)
    if message.buttons:
        doc["buttons"] = [dict(b) for b in message.buttons]
    if message.address is not None:
        doc["address"] = message.address
    if message.meta:
        doc["meta"] = dict(message.meta)
    if message.attachments:
        doc["attachments"] = [{"id": a.id, "filename": a.filename, "content_type": a.content_type, "size": a.size}
                              for a in message.attachments]
    return doc


def message_from_doc(doc: Mapping[str, Any]) -> Message:
    return Message(
        id=MessageId(doc["_id"]), conversation_id=ConversationId(doc["conversation_id"]),
        channel=doc["channel"], author=Author(doc["author"]), author_id=doc.get("author_id"),
        author_name=doc.get("author_name", ""), text=doc["text"], sent_at=doc["sent_at"],
        status=DeliveryStatus(doc["status"]), private=bool(doc.get("private")),
        external_id=ExternalId(doc["external_id"]) if doc.get("external_id") else None,
        buttons=tuple(doc.get("buttons", ())), address=doc.get("address"), meta=doc.get("meta") or {},
        attachments=tuple(AttachmentRef(id=a["id"], filename=a["filename"], content_type=a["content_type"],
                                        size=a["size"]) for a in doc.get("attachments", ())),
    )


def with_watermark(message: Message, delivered_until: datetime | None,
                   read_until: datetime | None = None) -> Message:
    """A customer message is ``read`` when its conversation's read watermark has passed it, else
    ``delivered`` when its delivered watermark has (``hub.storage.summaries``), whatever its document
    says below that: receipts are fields of the conversation, not writes per message."""
    if message.author is not Author.CUSTOMER or message.status is DeliveryStatus.READ:
        return message
    if read_until is not None and _naive(message.sent_at) <= _naive(read_until):
        return replace(message, status=DeliveryStatus.READ)
    if (delivered_until is None or message.status is not DeliveryStatus.SENT
            or _naive(message.sent_at) > _naive(delivered_until)):
        return message
    return replace(message, status=DeliveryStatus.DELIVERED)


def _naive(at: datetime) -> datetime:
    """MongoDB hands datetimes back naive (UTC) unless the client is tz-aware: compare like with like."""
    return at.replace(tzinfo=None) if at.tzinfo is not None else at


@dataclass(frozen=True, slots=True)
class Stored:
    """Result of a write: the message as stored, and whether it was already there."""

    message: Message
    duplicate: bool


@dataclass(frozen=True, slots=True)
class Item:
    """One message waiting for the writer; ``outbox``: its outbox entry (a staff reply to send)."""

    message: Message
    future: asyncio.Future[Stored]
    outbox: Mapping[str, Any] | None = None


Batch = list[Item]


def _fail(future: asyncio.Future[Stored], err: Exception) -> None:
    if future.done():
        return
    # The error's class and code only: a driver's message may quote the document (personal data).
    if isinstance(err, UnicodeError):
        logger.warning("storage.messages.refused error=%s", type(err).__name__)
        err = InvalidText("the message could not be stored: it holds text that is not valid Unicode")
    elif isinstance(err, InvalidDocument):
        logger.warning("storage.messages.refused error=%s", type(err).__name__)
        err = InvalidInput("the message could not be stored: the database refuses its form")
    else:
        logger.error("storage.messages.write_failed error=%s code=%s", type(err).__name__, getattr(err, "code", ""))
    future.set_exception(err)


class MongoMessageStore:
    """Owns the writer task and the summary writer between ``async with`` and its exit.

    ``gather_s``: how long a woken writer lets further messages join before it writes;
    ``summary_flush_s``: how soon the conversations' receipts are written, ``line_flush_s`` the
    longest an inbox line waits to ride with one (default ``summary_flush_s``)."""

    def __init__(self, db: Db, *, gather_s: float = 0.0, max_batch: int = MAX_BATCH,
                 summary_flush_s: float = 0.0, line_flush_s: float | None = None) -> None:
        self._messages = db["messages"]
        self._lines = MongoInboxLines(db)
        self._outbox = db["outbox"]
        self._gather_s = gather_s
        self._max_batch = max_batch
        self.summaries = ConversationSummaries(db, flush_s=summary_flush_s, line_s=line_flush_s)
        self._pending: Batch = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.batches = 0  # insert commands sent (tests and diagnostics)

    async def __aenter__(self) -> MongoMessageStore:
        await self.summaries.__aenter__()
        self._task = asyncio.create_task(self._run(), name="hub:message-writer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        for item in self._pending:
            if not item.future.done():
                item.future.set_exception(RuntimeError("message store stopped"))
        await self.summaries.__aexit__(*exc)

    async def add(self, message: Message) -> Stored:
        """Store durably; returns once MongoDB acknowledged the write (or found the duplicate)."""
        return await self._add(message, None)

    async def add_outbound(self, message: Message, outbox: Mapping[str, Any]) -> None:
        """Store a staff message and its outbox entry (``hub.storage.outbox``: the message's document
        with ``outbox``), the entry first, in the same group commit as every other message. Returns
        once both are stored; when the message is refused its entry is withdrawn (best effort: one
        left behind is sent after its lease, and the outbox stores the message then)."""
        await self._add(message, outbox)

    async def _add(self, message: Message, outbox: Mapping[str, Any] | None) -> Stored:
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._pending.append(Item(message, future, outbox))
        self._wakeup.set()
        return await future

    async def delivered(self, conversation_id: str, until: datetime) -> None:
        """The conversation's customer messages up to ``until`` reached the agent (one watermark, stored
        before this returns); ``timeline`` shows them delivered."""
        await self.summaries.delivered(conversation_id, until)

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

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            if self._gather_s and len(self._pending) < self._max_batch:
                await asyncio.sleep(self._gather_s)
            while self._pending:
                size = self._max_batch
                batch, self._pending = self._pending[:size], self._pending[size:]
                await self._write_isolating(batch)

    async def _write_isolating(self, batch: Batch) -> None:
        """Write a batch; when it fails as a whole, write each message alone, so that one message
        the database refuses (or the driver cannot encode) fails only its own caller."""
        try:
            await self._write(batch)
            return
        except Exception as err:  # the writer must survive; each caller gets its own outcome
            if len(batch) == 1:
                _fail(batch[0].future, err)
                return
            logger.warning("storage.messages.batch_split size=%d error=%s", len(batch), type(err).__name__)
        await asyncio.gather(*(self._write_isolating([item]) for item in batch if not item.future.done()))

    async def _write(self, batch: Batch) -> None:
        for item in batch:  # refused before the batch is sent: it cannot be stored at all
            if not is_valid_unicode(item.message.text):
                item.future.set_exception(InvalidText("the message text is not valid Unicode"))
        batch = [item for item in batch if not item.future.done()]
        if not batch:
            return
        docs = [message_to_doc(item.message) for item in batch]
        failed = await self._store_entries(batch, docs)
        kept = [n for n in range(len(batch)) if n not in failed]
        try:
            if kept:
                self.batches += 1
                await self._messages.insert_many([docs[n] for n in kept], ordered=False)
        except BulkWriteError as err:
            failed.update({kept[e["index"]]: e["code"] for e in err.details.get("writeErrors", [])})
        await self._withdraw_entries(batch, failed)
        self.summaries.note(item.message for i, item in enumerate(batch) if i not in failed)
        for index, (message, future) in enumerate((item.message, item.future) for item in batch):
            code = failed.get(index)
            if code is None:
                future.set_result(Stored(message, duplicate=False))
            elif code == DUPLICATE_KEY:
                existing = await self._existing(message)
                # Our own message, stored by an earlier attempt of this batch: not a customer's resend.
                future.set_result(Stored(existing, duplicate=existing.id != message.id))
            else:
                future.set_exception(RuntimeError(f"message write failed with code {code}"))

    async def _store_entries(self, batch: Batch, docs: list[dict[str, Any]]) -> dict[int, int]:
        """Insert the batch's outbox entries; returns the refused ones (batch index -> error code).
        An entry already there is this batch's own, stored by an attempt the batch split retries."""
        owners = [n for n, item in enumerate(batch) if item.outbox is not None]
        if not owners:
            return {}
        try:
            await self._outbox.insert_many([{**docs[n], "outbox": dict(batch[n].outbox or {})} for n in owners],
                                           ordered=False)
        except BulkWriteError as err:
            return {owners[e["index"]]: e["code"] for e in err.details.get("writeErrors", [])
                    if e["code"] != DUPLICATE_KEY}
        return {}

    async def _withdraw_entries(self, batch: Batch, failed: dict[int, int]) -> None:
        """The outbox entries of messages that were refused (not found stored): never sent."""
        ids = [batch[n].message.id for n, code in failed.items()
               if batch[n].outbox is not None and code != DUPLICATE_KEY]
        if ids:
            try:
                await self._outbox.delete_many({"_id": {"$in": ids}})
            except Exception as err:  # their leases run out; the outbox stores the message and sends it
                logger.warning("storage.messages.withdraw_failed entries=%d error=%s", len(ids), type(err).__name__)

    async def _existing(self, message: Message) -> Message:
        doc = await self._messages.find_one({"inbound_key": inbound_key(message.channel, message.external_id or "")})
        if doc is None:  # the duplicate was on _id itself: a retried identical write
            doc = await self._messages.find_one({"_id": message.id})
        assert doc is not None
        return message_from_doc(doc)

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
