"""At start: outbox entries an older hub kept on the message documents move to the outbox collection.

Before ADR 0068 a staff message for SMS, e-mail or Telegram carried its outbox entry (``outbox``)
on its own document, and ``messages`` had two indexes for it. An upgraded deployment still has
those documents: each one is copied as it is to ``outbox`` (the entry's shape did not change, so a
pending entry is sent by the new hub, and a done one still finds its delivery reports), its
``outbox`` field is removed from the message, and the two indexes are dropped last.

Idempotent and safe to interrupt: a copy already there is kept (never overwritten: the new hub may
have moved it on), and the old index is the marker of work left, dropped only when nothing is.
A deployment that never had it (or finished) pays one ``listIndexes`` per start.
"""

from __future__ import annotations

import logging
from typing import Any

from pymongo.errors import BulkWriteError, OperationFailure

from hub.storage.database import DUPLICATE_KEY, Db

logger = logging.getLogger(__name__)

OLD_INDEXES = ("outbox_due_sparse", "provider_ids_sparse")  # on ``messages``, before ADR 0068
INDEX_NOT_FOUND = 27
BATCH = 50  # ids per $in (hub.storage.database.IN_CHUNK: SecantusDB pays about the square of a long list)


async def move_outbox_entries(db: Db) -> int:
    """Move every message document's outbox entry to ``outbox``; returns how many were moved."""
    messages = db["messages"]
    present = [name async for name in _index_names(db) if name in OLD_INDEXES]
    if not present:
        return 0
    moved = 0
    batch: list[dict[str, Any]] = []
    async for doc in messages.find({"outbox": {"$exists": True}}):  # one pass over the messages
        batch.append(doc)
        if len(batch) == BATCH:
            moved += await _move(db, batch)
            batch = []
    moved += await _move(db, batch)
    for name in present:
        await _drop(db, name)
    logger.info("storage.outbox.migrated entries=%d dropped_indexes=%d", moved, len(present))
    return moved


async def _drop(db: Db, name: str) -> None:
    """Drop an old index; another process starting at the same time may have dropped it first."""
    try:
        await db["messages"].drop_index(name)
    except OperationFailure as err:
        if err.code != INDEX_NOT_FOUND:
            raise


async def _index_names(db: Db) -> Any:
    async for index in await db["messages"].list_indexes():
        yield index["name"]


async def _move(db: Db, docs: list[dict[str, Any]]) -> int:
    if docs:
        await _copy(db, docs)
        await db["messages"].update_many({"_id": {"$in": [doc["_id"] for doc in docs]}}, {"$unset": {"outbox": ""}})
    return len(docs)


async def _copy(db: Db, docs: list[dict[str, Any]]) -> None:
    """Insert the entries; one already copied by an interrupted run is kept as it is."""
    try:
        await db["outbox"].insert_many(docs, ordered=False)
    except BulkWriteError as err:
        codes = {e["code"] for e in err.details.get("writeErrors", [])}
        if codes - {DUPLICATE_KEY}:
            raise
