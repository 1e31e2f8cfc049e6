"""Inbox lines: the message-driven fields of a conversation in a small document of their own
(ADR 0067).

``inbox_lines`` holds one document per conversation (``_id`` = the conversation id, no secondary
index): ``preview``, ``last_message_at``, ``unread``, the receipts' watermarks ``delivered_until``
and ``read_until``, and ``last_customer_at``. The summary writer (``hub.storage.summaries``) upserts
them; the conversation document, with its five indexes, no longer changes per message. SecantusDB
pays per written document and per index of its collection, so the line costs it about 0.7 ms to
update instead of 1.65 ms (ADR 0063's prices).

Readers get the conversation document as before: ``with_line`` lays a line's fields over the
conversation's own, one ``$in`` per page of conversations (``joined``). A conversation without a
line keeps its own fields (``preview`` "" and ``unread`` 0 from its creation). ``migrate`` copies
the fields of conversations stored by an older hub into lines once, at start; the old fields stay
on the conversation (read by nobody once a line exists; an older hub started again still finds them).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError

from hub.storage.database import DUPLICATE_KEY, Db, chunked

logger = logging.getLogger(__name__)

LINE_FIELDS = ("preview", "last_message_at", "unread", "delivered_until", "read_until", "last_customer_at")
MIGRATION = "0067-inbox-lines"  # its document in ``migrations`` once done
MIGRATION_BATCH = 500  # lines per bulk write while migrating


def with_line(doc: Mapping[str, Any], line: Mapping[str, Any] | None) -> dict[str, Any]:
    """The conversation document as its readers knew it: its line's fields over its own."""
    if not line:
        return dict(doc)
    return {**doc, **{name: line[name] for name in LINE_FIELDS if name in line}}


class MongoInboxLines:
    """Reads of the inbox lines (the summary writer writes them). Safe to share between coroutines."""

    def __init__(self, db: Db) -> None:
        self._lines = db["inbox_lines"]

    async def line(self, conversation_id: str, fields: Sequence[str] = LINE_FIELDS) -> dict[str, Any] | None:
        return await self._lines.find_one({"_id": conversation_id}, {name: 1 for name in fields})

    async def joined_one(self, doc: Mapping[str, Any]) -> dict[str, Any]:
        """``doc`` (a conversation document) with its line: one read by ``_id``."""
        return with_line(doc, await self.line(str(doc["_id"])))

    async def joined(self, docs: Sequence[Mapping[str, Any]],
                     fields: Sequence[str] = LINE_FIELDS) -> list[dict[str, Any]]:
        """``docs`` (conversation documents, in their order) with their lines: one ``$in`` per chunk
        of ``IN_CHUNK`` conversations, never a read per conversation."""
        lines: dict[str, dict[str, Any]] = {}
        for chunk in chunked(str(doc["_id"]) for doc in docs):
            async for line in self._lines.find({"_id": {"$in": chunk}}, {name: 1 for name in fields}):
                lines[line["_id"]] = line
        return [with_line(doc, lines.get(str(doc["_id"]))) for doc in docs]


async def migrate(db: Db) -> int:
    """Lines for the conversations an older hub stored with their fields on the conversation; once
    (a document in ``migrations`` says it is done), idempotent if interrupted: a line that exists
    is never changed. Returns how many lines were created."""
    migrations = db["migrations"]
    if await migrations.find_one({"_id": MIGRATION}, {"_id": 1}) is not None:
        return 0
    query = {"$or": [{name: {"$exists": True}}
                     for name in ("last_message_at", "delivered_until", "read_until", "last_customer_at")]}
    created, batch = 0, []
    async for doc in db["conversations"].find(query, {name: 1 for name in LINE_FIELDS}):
        batch.append(doc)
        if len(batch) >= MIGRATION_BATCH:
            created += await _create_lines(db, batch)
            batch = []
    created += await _create_lines(db, batch)
    await migrations.update_one({"_id": MIGRATION}, {"$setOnInsert": {"at": datetime.now(UTC), "lines": created}},
                                upsert=True)
    logger.info("storage.inbox_lines.migrated lines=%d", created)
    return created


async def _create_lines(db: Db, docs: Iterable[Mapping[str, Any]]) -> int:
    requests = [UpdateOne({"_id": doc["_id"]},
                          {"$setOnInsert": {name: doc[name] for name in LINE_FIELDS if name in doc}}, upsert=True)
                for doc in docs]
    if not requests:
        return 0
    try:
        result = await db["inbox_lines"].bulk_write(requests, ordered=False)
    except BulkWriteError as err:  # another hub starting at once created the same line first
        if any(e.get("code") != DUPLICATE_KEY for e in err.details.get("writeErrors", [])):
            raise
        return int(err.details.get("nUpserted", 0))
    return result.upserted_count
