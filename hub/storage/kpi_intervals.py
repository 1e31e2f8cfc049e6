"""The ``kpi_intervals`` collection: one document per bucket of ``hub.kpi_intervals``.

Applying is idempotent per event: each document lists the ids of the events it has counted
(``applied``), and the update that adds a batch's counts matches only a document that lists none
of them. A batch applied again after a crash (at-least-once) or an event seen at two numbers
(renumbered) is therefore counted once.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo import UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hub.forecast import QuarterLoad
from hub.kpi_intervals import MAXIMA, Bucket, Counts, add
from hub.storage.database import DUPLICATE_KEY, Db

COLLECTION = "kpi_intervals"


def _update(bucket: Bucket, by_event: Mapping[str, Counts]) -> tuple[dict[str, Any], dict[str, Any]]:
    total: Counts = {}
    for counts in by_event.values():
        add(total, counts)
    ids = sorted(by_event)
    update: dict[str, Any] = {
        "$push": {"applied": {"$each": ids}},
        "$setOnInsert": {"interval": bucket.interval, "queue": bucket.queue, "channel": bucket.channel,
                         "agent": bucket.agent},
    }
    sums = {f"c.{k}": v for k, v in total.items() if k not in MAXIMA}
    maxima = {f"c.{k}": v for k, v in total.items() if k in MAXIMA}
    if sums:
        update["$inc"] = sums
    if maxima:
        update["$max"] = maxima
    return {"_id": bucket.key, "applied": {"$nin": ids}}, update


class MongoKpiIntervals:
    def __init__(self, db: Db) -> None:
        self._intervals = db[COLLECTION]

    async def apply(self, changes: Mapping[Bucket, Mapping[str, Counts]]) -> None:
        """Add each bucket's counts for the events it has not counted yet (one round trip usually)."""
        if not changes:
            return
        buckets = list(changes)
        try:
            await self._intervals.bulk_write([UpdateOne(*_update(b, changes[b]), upsert=True) for b in buckets],
                                             ordered=False)
            return
        except BulkWriteError as err:
            errors = err.details.get("writeErrors", [])
            if any(e.get("code") != DUPLICATE_KEY for e in errors):
                raise
            again = [buckets[e["index"]] for e in errors]
        for bucket in again:  # some of these events were counted before: count only the others
            await self._apply_rest(bucket, changes[bucket])

    async def _apply_rest(self, bucket: Bucket, by_event: Mapping[str, Counts]) -> None:
        for _ in range(10):
            doc = await self._intervals.find_one({"_id": bucket.key}, {"applied": 1})
            done = set((doc or {}).get("applied", ()))
            rest = {event_id: counts for event_id, counts in by_event.items() if event_id not in done}
            if not rest:
                return
            try:
                result = await self._intervals.update_one(*_update(bucket, rest), upsert=True)
            except DuplicateKeyError:
                continue  # another writer counted some of them meanwhile
            if result.matched_count or result.upserted_id is not None:
                return
        raise RuntimeError(f"kpi_intervals: could not apply to {bucket.key}")

    async def drop(self) -> None:
        await self._intervals.delete_many({})  # not drop(): the indexes stay

    async def all(self) -> dict[Bucket, Counts]:
        """The stored projection as ``hub.kpi_intervals.replay`` returns it."""
        out: dict[Bucket, Counts] = {}
        async for doc in self._intervals.find({}, {"applied": 0}):
            bucket = Bucket(doc["interval"].astimezone(UTC), doc["queue"], doc["channel"], doc["agent"])
            out[bucket] = dict(doc.get("c", {}))
        return out

    async def answer_times(self, queue: str, start: datetime, end: datetime) -> tuple[int, int]:
        """Answered waits of one queue in ``[start, end)`` and their summed wait in ms (its queue buckets:
        the agents' buckets repeat them). ``hub.ports.AnswerTimes``; the ASA is the second over the first."""
        pipeline: list[dict[str, Any]] = [
            {"$match": {"interval": {"$gte": start, "$lt": end}, "agent": "", "queue": queue}},
            {"$group": {"_id": None, "answered": {"$sum": "$c.answered"}, "wait_ms": {"$sum": "$c.answered_wait_ms"}}},
        ]
        async for row in await self._intervals.aggregate(pipeline):
            return int(row["answered"]), int(row["wait_ms"])
        return 0, 0

    async def load_by_quarter(self, start: datetime, end: datetime, *, queue: str | None = None,
                              channel: str | None = None) -> list[QuarterLoad]:
        """Offered, handled (resolved by an agent) and handle time per UTC quarter hour in ``[start, end)``,
        summed over the queues' buckets (the agents' buckets repeat them), of one queue or channel when given;
        quarter hours without any document are left out. Oldest first."""
        match: dict[str, Any] = {"interval": {"$gte": start, "$lt": end}, "agent": ""}
        if queue is not None:
            match["queue"] = queue
        if channel is not None:
            match["channel"] = channel
        pipeline: list[dict[str, Any]] = [
            {"$match": match},
            {"$group": {"_id": "$interval", "offered": {"$sum": "$c.offered"}, "handled": {"$sum": "$c.resolved"},
                        "handle_ms": {"$sum": "$c.handle_ms"}}},
            {"$sort": {"_id": 1}},
        ]
        return [QuarterLoad(interval=row["_id"].astimezone(UTC), offered=int(row["offered"]),
                            handled=int(row["handled"]), handle_ms=int(row["handle_ms"]))
                async for row in await self._intervals.aggregate(pipeline)]
