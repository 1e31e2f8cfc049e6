"""The event table as a numbered stream: drawing ``seq`` for each insert, reading it in order,
and the checkpoints of durable consumers. The rules are in ``hub/domain/stream.py``.

Collections: ``counters`` (one document ``{_id: "events", seq, sealed, backfilled}``),
``event_voids`` (numbers drawn by a writer whose insert lost the version race) and
``consumer_checkpoints`` (``{_id: <consumer name>, seq, holder, updated_at, reset_requested}``).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from hub.domain.stream import CONFIRM_AFTER_S, StoredEvent, event_from_doc, must_confirm
from hub.storage.database import Db, chunked, increment

logger = logging.getLogger(__name__)

COUNTER = "events"
BACKFILL_BATCH = 1000


class MongoEventSequence:
    """Numbers events as they are inserted. Every process's every insert into ``events`` goes here."""

    def __init__(self, db: Db, *, confirm_after_s: float = CONFIRM_AFTER_S) -> None:
        self._confirm_after_s = confirm_after_s
        self._counters = db["counters"]
        self._events = db["events"]
        self._voids = db["event_voids"]

    async def draw(self, n: int = 1) -> int:
        """Reserve ``n`` numbers; returns the last. A find-and-modify on a one-document collection:
        cheap on SecantusDB too (its find-and-modify is slow only on large collections, ADR 0016)."""
        return await increment(self._counters, COUNTER, n)

    async def insert(self, doc: dict[str, Any]) -> int:
        """Insert one event with a fresh ``seq``; returns the number it ended with.

        Raises ``DuplicateKeyError`` when the event's ``_id`` exists (the caller lost the race for
        this version); the number drawn is then recorded as void so consumers pass it at once.
        """
        started = time.monotonic()
        seq = await self.draw()
        try:
            await self._events.insert_one({**doc, "seq": seq})
        except DuplicateKeyError:
            await self._voids.update_one({"_id": seq}, {"$set": {"event_id": doc["_id"]}}, upsert=True)
            raise
        while must_confirm(time.monotonic() - started, self._confirm_after_s):
            if seq > await self.sealed():
                break
            # A consumer gave up waiting for this number before the insert was seen: move the event
            # to a new one (consumers may see it twice; their handlers are keyed by the event id).
            started = time.monotonic()
            new = await self.draw()
            await self._events.update_one({"_id": doc["_id"], "seq": seq}, {"$set": {"seq": new}})
            logger.warning("eventlog.renumbered id=%s seq=%d->%d", doc["_id"], seq, new)
            seq = new
        return seq

    async def drawn(self) -> int:
        """The last number drawn (0 before the first): no event stored has a higher one. One read
        of one small document, however long the table (``last`` scans it on SecantusDB: 1.1 s at
        50,000 events)."""
        doc = await self._counters.find_one({"_id": COUNTER}, {"seq": 1})
        return int((doc or {}).get("seq", 0))

    async def sealed(self) -> int:
        doc = await self._counters.find_one({"_id": COUNTER}, {"sealed": 1})
        return int((doc or {}).get("sealed", 0))

    async def seal(self, upto: int) -> None:
        await self._counters.update_one({"_id": COUNTER}, {"$max": {"sealed": upto}}, upsert=True)

    async def backfill(self) -> int:
        """Number events stored without ``seq`` (by a hub from before durable consumers), oldest first.

        Runs once per database (the ``backfilled`` flag); two processes doing it at once only
        burn numbers, which consumers seal. Returns how many events it numbered.
        """
        state = await self._counters.find_one({"_id": COUNTER}, {"backfilled": 1})
        if state is not None and state.get("backfilled"):
            return 0
        numbered = 0
        while True:
            docs = await self._events.find({"seq": {"$exists": False}}, {"_id": 1}).sort(
                [("at", 1), ("_id", 1)]).limit(BACKFILL_BATCH).to_list(None)
            if not docs:
                break
            last = await self.draw(len(docs))
            for offset, doc in enumerate(docs):
                result = await self._events.update_one({"_id": doc["_id"], "seq": {"$exists": False}},
                                                       {"$set": {"seq": last - len(docs) + 1 + offset}})
                numbered += result.modified_count
        await self._counters.update_one({"_id": COUNTER}, {"$set": {"backfilled": True}}, upsert=True)
        if numbered:
            logger.info("eventlog.backfilled events=%d", numbered)
        return numbered


class MongoEventStream(MongoEventSequence):
    """Reading the numbered stream (``hub.consumers.EventStream``)."""

    async def after(self, seq: int, limit: int) -> list[StoredEvent]:
        """The first ``limit`` events numbered after ``seq``, in order.

        Read as two bounded ranges: ``(seq, seq + limit]`` (all of it, unless numbers are missing),
        then what lies beyond, for as many as are still wanted. SecantusDB applies a ``limit`` only
        after reading every document of an open range (``seq > n`` then the first 1,000: 1.6 s at the
        start of 20,000 events, 0.09 s at their end), which made a consumer's catch-up quadratic in the
        table's length (bench/README.md "KPI projection and history"). At the head of the stream the
        second range is empty and cheap.
        """
        events = await self._range({"$gt": seq, "$lte": seq + limit}, limit)
        if len(events) < limit:  # a missing number inside the range, or the end of the table
            events += await self._range({"$gt": seq + limit}, limit - len(events))
        return events

    async def _range(self, seqs: Mapping[str, int], limit: int) -> list[StoredEvent]:
        cursor = self._events.find({"seq": dict(seqs)}, {"changes": 0}).sort("seq", 1).limit(limit)
        return [event_from_doc(doc) async for doc in cursor]

    async def voids(self, first: int, last: int) -> set[int]:
        cursor = self._voids.find({"_id": {"$gte": first, "$lte": last}}, {"_id": 1})
        return {int(doc["_id"]) async for doc in cursor}

    async def last(self) -> int:
        """The highest number stored (0 for none)."""
        doc = await self._events.find_one({"seq": {"$gt": 0}}, {"seq": 1}, sort=[("seq", -1)])
        return int(doc["seq"]) if doc else 0

    async def histories(self, conversation_ids: Iterable[str]) -> dict[str, list[StoredEvent]]:
        """Every event of these conversations, by version (a consumer's context for its batch)."""
        out: dict[str, list[StoredEvent]] = {}
        for ids in chunked(conversation_ids):  # a long $in is slow on SecantusDB (hub/storage/database.py)
            cursor = self._events.find({"conversation_id": {"$in": ids}}, {"changes": 0})
            async for doc in cursor.sort([("conversation_id", 1), ("version", 1)]):
                out.setdefault(doc["conversation_id"], []).append(event_from_doc({"seq": 0, **doc}))
        return out

    async def everything(self) -> list[StoredEvent]:
        """The whole table (a full replay: tests and rebuild checks; not for a busy hub)."""
        return [event_from_doc({"seq": 0, **doc}) async for doc in self._events.find({}, {"changes": 0})]


@dataclass(frozen=True, slots=True, kw_only=True)
class Checkpoint:
    name: str
    seq: int = 0
    holder: str | None = None
    updated_at: datetime | None = None
    reset_requested: bool = False


def checkpoint_from_doc(name: str, doc: Mapping[str, Any] | None) -> Checkpoint:
    if doc is None:
        return Checkpoint(name=name)
    return Checkpoint(name=name, seq=int(doc.get("seq", 0)), holder=doc.get("holder"),
                      updated_at=doc.get("updated_at"), reset_requested=bool(doc.get("reset_requested")))


class MongoCheckpoints:
    """Where each durable consumer has got to (``hub.consumers.Checkpoints``)."""

    def __init__(self, db: Db) -> None:
        self._checkpoints = db["consumer_checkpoints"]

    async def load(self, name: str) -> Checkpoint:
        return checkpoint_from_doc(name, await self._checkpoints.find_one({"_id": name}))

    async def save(self, name: str, seq: int, *, holder: str, at: datetime) -> None:
        """Forward only (``$max``): a holder that lost its lease cannot move a checkpoint back."""
        await self._checkpoints.update_one(
            {"_id": name}, {"$max": {"seq": seq}, "$set": {"holder": holder, "updated_at": at}}, upsert=True)

    async def mark_holder(self, name: str, *, holder: str, at: datetime) -> None:
        await self._checkpoints.update_one({"_id": name}, {"$set": {"holder": holder, "updated_at": at}},
                                           upsert=True)

    async def request_reset(self, name: str) -> None:
        """Ask the process running ``name`` to drop its projection and start again from the first event."""
        await self._checkpoints.update_one({"_id": name}, {"$set": {"reset_requested": True}}, upsert=True)

    async def reset_done(self, name: str, *, holder: str, at: datetime) -> None:
        await self._checkpoints.update_one(
            {"_id": name}, {"$set": {"seq": 0, "reset_requested": False, "holder": holder, "updated_at": at}},
            upsert=True)

    async def all(self) -> list[Checkpoint]:
        return [checkpoint_from_doc(doc["_id"], doc) async for doc in self._checkpoints.find({}).sort("_id", 1)]
