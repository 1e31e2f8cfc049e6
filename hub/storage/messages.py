"""Messages in MongoDB, written through a group-commit writer.

Inbound messages must be durable before the channel is acknowledged, and single inserts cost a
round trip each; the writer therefore gathers whatever is pending while the previous batch is in
flight and stores it with one unordered ``insert_many``. A duplicate ``(channel, external_id)``
resolves to the message already stored (idempotent inbound).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bson.errors import InvalidDocument
from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from hub.domain.ids import Author, ConversationId, DeliveryStatus, ExternalId, MessageId
from hub.domain.model import AttachmentRef, Message
from hub.domain.text import is_valid_unicode
from hub.errors import InvalidInput, InvalidText
from hub.storage.database import Db
from hub.tasks import cancel_and_wait

logger = logging.getLogger(__name__)

DUPLICATE_KEY = 11000
MAX_BATCH = 500


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


@dataclass(frozen=True, slots=True)
class Stored:
    """Result of a write: the message as stored, and whether it was already there."""

    message: Message
    duplicate: bool


Batch = list[tuple[Message, asyncio.Future[Stored]]]


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
    """Owns a background writer task between ``start()`` and ``stop()`` (or ``async with``)."""

    def __init__(self, db: Db) -> None:
        self._messages = db["messages"]
        self._conversations = db["conversations"]
        self._pending: Batch = []
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> MongoMessageStore:
        self._task = asyncio.create_task(self._run(), name="hub:message-writer")
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._task is not None:
            await cancel_and_wait(self._task)
        for _, future in self._pending:
            if not future.done():
                future.set_exception(RuntimeError("message store stopped"))

    async def add(self, message: Message) -> Stored:
        """Store durably; returns once MongoDB acknowledged the write (or found the duplicate)."""
        future: asyncio.Future[Stored] = asyncio.get_running_loop().create_future()
        self._pending.append((message, future))
        self._wakeup.set()
        return await future

    async def add_outbound(self, message: Message, outbox: Mapping[str, Any]) -> None:
        """Store a staff message together with its outbox entry (one write: nothing to lose between)."""
        await self._messages.insert_one({**message_to_doc(message), "outbox": dict(outbox)})
        await self._update_previews([message])

    async def last_inbound(self, conversation_id: str) -> Message | None:
        """The customer's latest message: replies go back where the customer last wrote."""
        cursor = self._messages.find({"conversation_id": conversation_id, "inbound": True}).sort("sent_at", -1)
        async for doc in cursor.limit(1):
            return message_from_doc(doc)
        return None

    async def last_from(self, conversation_id: str, author: Author) -> Message | None:
        cursor = self._messages.find({"conversation_id": conversation_id, "author": author.value}).sort("sent_at", -1)
        async for doc in cursor.limit(1):
            return message_from_doc(doc)
        return None

    async def _run(self) -> None:
        while True:
            await self._wakeup.wait()
            self._wakeup.clear()
            while self._pending:
                batch, self._pending = self._pending[:MAX_BATCH], self._pending[MAX_BATCH:]
                await self._write_isolating(batch)

    async def _write_isolating(self, batch: Batch) -> None:
        """Write a batch; when it fails as a whole, write each message alone, so that one message
        the database refuses (or the driver cannot encode) fails only its own caller."""
        try:
            await self._write(batch)
            return
        except Exception as err:  # the writer must survive; each caller gets its own outcome
            if len(batch) == 1:
                _fail(batch[0][1], err)
                return
            logger.warning("storage.messages.batch_split size=%d error=%s", len(batch), type(err).__name__)
        await asyncio.gather(*(self._write_isolating([item]) for item in batch if not item[1].done()))

    async def _write(self, batch: Batch) -> None:
        for message, future in batch:  # refused before the batch is sent: it cannot be stored at all
            if not is_valid_unicode(message.text):
                future.set_exception(InvalidText("the message text is not valid Unicode"))
        batch = [(m, f) for m, f in batch if not f.done()]
        if not batch:
            return
        failed: dict[int, int] = {}
        try:
            await self._messages.insert_many([message_to_doc(m) for m, _ in batch], ordered=False)
        except BulkWriteError as err:
            failed = {e["index"]: e["code"] for e in err.details.get("writeErrors", [])}
        await self._update_previews([m for i, (m, _) in enumerate(batch) if i not in failed])
        for index, (message, future) in enumerate(batch):
            code = failed.get(index)
            if code is None:
                future.set_result(Stored(message, duplicate=False))
            elif code == DUPLICATE_KEY:
                existing = await self._existing(message)
                # Our own message, stored by an earlier attempt of this batch: not a customer's resend.
                future.set_result(Stored(existing, duplicate=existing.id != message.id))
            else:
                future.set_exception(RuntimeError(f"message write failed with code {code}"))

    async def _update_previews(self, stored: list[Message]) -> None:
        """The inbox line (last text, unread count) moves in the same group commit."""
        latest: dict[str, Message] = {}
        unread: dict[str, int] = {}
        for message in stored:
            if message.private:
                continue
            latest[message.conversation_id] = message
            if message.author is Author.CUSTOMER:
                unread[message.conversation_id] = unread.get(message.conversation_id, 0) + 1
        if latest:
            await self._conversations.bulk_write([
                UpdateOne({"_id": cid}, {"$set": {"preview": m.text[:140], "last_message_at": m.sent_at},
                                         "$inc": {"unread": unread.get(cid, 0)}})
                for cid, m in latest.items()], ordered=False)

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
        return [message_from_doc(doc) async for doc in cursor]

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

    async def advance_many(self, message_ids: list[str], status: DeliveryStatus) -> None:
        """Batch form for the hub's own receipts: one write for many messages, forward only."""
        lower = [s.value for s in DeliveryStatus if s.rank() < status.rank()]
        await self._messages.update_many({"_id": {"$in": message_ids}, "status": {"$in": lower}},
                                         {"$set": {"status": status.value}})

    async def unread_from(self, conversation_id: str, author: Author) -> list[str]:
        query = {"conversation_id": conversation_id, "author": author.value, "status": {"$ne": "read"}}
        return [doc["_id"] async for doc in self._messages.find(query, {"_id": 1})]
