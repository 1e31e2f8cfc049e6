"""MongoDB storage of the curated data and the trained models.

Collections: ``bot_examples`` (``_id`` = the normalised text, so a text is one example whatever its
spelling), ``bot_intents`` (``_id`` = name) and ``bot_models``. At most one model is ``training``
and at most one ``active``: partial unique indexes on ``status`` make that hold across processes.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, IndexModel, InsertOne, UpdateOne
from pymongo.errors import BulkWriteError, DuplicateKeyError

from hub.domain.training import Example, ExampleSource, ModelRecord, ModelStatus
from hub.errors import ConcurrentUpdate, NotFound
from hub.storage.database import Db

logger = logging.getLogger(__name__)

BATCH = 5000
STALE_TRAINING = timedelta(minutes=10)  # no progress this long: the process that trained it is gone

INDEXES: dict[str, list[IndexModel]] = {
    "bot_examples": [IndexModel([("intent", ASCENDING)], name="intent")],
    "bot_models": [
        IndexModel([("status", ASCENDING)], unique=True, partialFilterExpression={"status": "training"},
                   name="one_training"),
        IndexModel([("status", ASCENDING)], unique=True, partialFilterExpression={"status": "active"},
                   name="one_active"),
        IndexModel([("created_at", DESCENDING)], name="created"),
    ],
    "bot_turns": [
        IndexModel([("at", DESCENDING)], name="at"),
        IndexModel([("conversation_id", ASCENDING)], name="conversation"),
    ],
}


async def ensure_training_indexes(db: Db) -> None:
    for collection, models in INDEXES.items():
        await db[collection].create_indexes(models)


def example_doc(example: Example) -> dict[str, Any]:
    return {"_id": example.key, "text": example.text, "intent": example.intent, "language": example.language,
            "source": example.source.value, "created_at": example.created_at, "by": example.by}


def example_from_doc(doc: Mapping[str, Any]) -> Example:
    return Example(key=doc["_id"], text=doc["text"], intent=doc["intent"], language=doc.get("language", "en"),
                   source=ExampleSource(doc.get("source", "import")), created_at=doc["created_at"],
                   by=doc.get("by", ""))


def model_from_doc(doc: Mapping[str, Any]) -> ModelRecord:
    return ModelRecord(
        id=doc["_id"], status=ModelStatus(doc["status"]), progress=float(doc.get("progress", 0.0)),
        phase=doc.get("phase", ""), created_at=doc["created_at"], by=doc.get("by", ""),
        trained_at=doc.get("trained_at"), duration_s=doc.get("duration_s"), path=doc.get("path"),
        examples=int(doc.get("examples", 0)), intents=int(doc.get("intents", 0)),
        handover_intents=tuple(doc.get("handover_intents", ())), metrics=doc.get("metrics") or {},
        threshold=doc.get("threshold"),
        error=doc.get("error"), activated_at=doc.get("activated_at"))


class TrainingStore:
    def __init__(self, db: Db) -> None:
        self._examples = db["bot_examples"]
        self._intents = db["bot_intents"]
        self._models = db["bot_models"]

    # --- examples and intents ---------------------------------------------------------------------

    async def count_examples(self) -> int:
        return await self._examples.count_documents({})

    async def upsert_examples(self, examples: Sequence[Example], labels: Mapping[str, str] | None = None) -> int:
        """Write examples by key: new ones are inserted, existing ones relabelled. Returns how many changed.

        Reads the existing keys and intents once, then writes in unordered batches, so tens of
        thousands of rows take a few round trips, not one per row.
        """
        existing: dict[str, str] = {}
        async for doc in self._examples.find({}, {"intent": 1}):
            existing[doc["_id"]] = doc["intent"]
        writes: list[InsertOne[dict[str, Any]] | UpdateOne] = []
        for example in examples:
            known = existing.get(example.key)
            if known is None:
                writes.append(InsertOne(example_doc(example)))
            elif known != example.intent:
                writes.append(UpdateOne({"_id": example.key}, {"$set": {
                    "text": example.text, "intent": example.intent, "source": example.source.value,
                    "by": example.by, "updated_at": example.created_at}}))
        for start in range(0, len(writes), BATCH):
            try:
                await self._examples.bulk_write(writes[start:start + BATCH], ordered=False)
            except BulkWriteError as err:  # a concurrent writer inserted the same text first: theirs stands
                if any(e.get("code") != 11000 for e in err.details.get("writeErrors", ())):
                    raise
        await self.add_intents({e.intent for e in examples}, by=examples[0].by if examples else "",
                               at=examples[0].created_at if examples else None, labels=labels)
        return len(writes)

    async def replace_examples(self, examples: Sequence[Example], labels: Mapping[str, str] | None = None) -> int:
        await self._examples.delete_many({})
        await self._intents.delete_many({})
        docs = [example_doc(e) for e in examples]
        for start in range(0, len(docs), BATCH):
            await self._examples.insert_many(docs[start:start + BATCH], ordered=False)
        await self.add_intents({e.intent for e in examples}, by=examples[0].by if examples else "",
                               at=examples[0].created_at if examples else None, labels=labels)
        return len(docs)

    async def put_example(self, example: Example, label: str = "") -> None:
        await self._examples.update_one({"_id": example.key}, {
            "$set": {"text": example.text, "intent": example.intent, "language": example.language,
                     "source": example.source.value, "by": example.by, "updated_at": example.created_at},
            "$setOnInsert": {"created_at": example.created_at}}, upsert=True)
        await self.add_intents({example.intent}, by=example.by, at=example.created_at,
                               labels={example.intent: label} if label else None)

    async def delete_example(self, key: str) -> bool:
        """False: no example has this key. Its intent stays (with fewer examples, or none)."""
        return (await self._examples.delete_one({"_id": key})).deleted_count == 1

    async def examples(self, intent: str | None = None, limit: int = 0) -> list[Example]:
        cursor = self._examples.find({"intent": intent} if intent else {}).sort("_id", 1).limit(limit)
        return [example_from_doc(doc) async for doc in cursor]

    async def example_pairs(self) -> list[tuple[str, str]]:
        """Every example as ``(text, intent)``, for export; only the two fields are read."""
        cursor = self._examples.find({}, {"text": 1, "intent": 1, "_id": 0}).sort("_id", 1)
        return [(doc["text"], doc["intent"]) async for doc in cursor]

    async def add_intents(self, names: Iterable[str], *, by: str, at: datetime | None,
                          labels: Mapping[str, str] | None = None) -> None:
        """Record intents by name; ``labels`` (name -> label as written) is kept for display."""
        labels = labels or {}
        writes = [UpdateOne({"_id": name}, {"$setOnInsert": {"created_at": at, "by": by},
                                            **({"$set": {"label": labels[name]}} if name in labels else {})},
                            upsert=True)
                  for name in sorted(names)]
        for start in range(0, len(writes), BATCH):
            await self._intents.bulk_write(writes[start:start + BATCH], ordered=False)

    async def intent_labels(self) -> dict[str, str]:
        """``{name: label}`` of the intents whose label differs from their name."""
        return {doc["_id"]: doc["label"] async for doc in self._intents.find({"label": {"$exists": True}},
                                                                              {"label": 1})}

    async def intent_counts(self) -> dict[str, int]:
        """Every intent (also those without examples yet) and its number of examples."""
        counts = {doc["_id"]: 0 async for doc in self._intents.find({}, {"_id": 1})}
        async for row in await self._examples.aggregate([{"$group": {"_id": "$intent", "n": {"$sum": 1}}}]):
            counts[row["_id"]] = int(row["n"])
        return counts

    # --- models -----------------------------------------------------------------------------------

    async def start_model(self, record: ModelRecord, now: datetime) -> None:
        """Insert a ``training`` record; ConcurrentUpdate if another training is running (or abandoned)."""
        doc = {"_id": record.id, "status": record.status.value, "progress": 0.0, "phase": record.phase,
               "created_at": record.created_at, "by": record.by, "heartbeat_at": now,
               "examples": record.examples, "intents": record.intents}
        try:
            await self._models.insert_one(doc)
            return
        except DuplicateKeyError:
            pass
        stale = await self._models.update_one(
            {"status": ModelStatus.TRAINING.value, "heartbeat_at": {"$lt": now - STALE_TRAINING}},
            {"$set": {"status": ModelStatus.FAILED.value, "error": "abandoned: no progress for 10 minutes"}})
        if stale.modified_count:
            logger.warning("training.abandoned marked failed")
            try:
                await self._models.insert_one(doc)
                return
            except DuplicateKeyError:
                pass
        raise ConcurrentUpdate("a training is already running; wait for it to finish")

    async def update_model(self, model_id: str, fields: Mapping[str, Any]) -> None:
        await self._models.update_one({"_id": model_id}, {"$set": dict(fields)})

    async def model(self, model_id: str) -> ModelRecord:
        doc = await self._models.find_one({"_id": model_id})
        if doc is None:
            raise NotFound(f"no model {model_id}")
        return model_from_doc(doc)

    async def models(self, limit: int = 50) -> list[ModelRecord]:
        cursor = self._models.find({}).sort("created_at", -1).limit(limit)
        return [model_from_doc(doc) async for doc in cursor]

    async def active_model(self) -> ModelRecord | None:
        doc = await self._models.find_one({"status": ModelStatus.ACTIVE.value})
        return model_from_doc(doc) if doc else None

    async def mark_active(self, model_id: str, now: datetime) -> None:
        """Demote the active model (if another) to ready, then promote this one."""
        await self._models.update_many({"status": ModelStatus.ACTIVE.value, "_id": {"$ne": model_id}},
                                       {"$set": {"status": ModelStatus.READY.value}})
        await self._models.update_one({"_id": model_id},
                                      {"$set": {"status": ModelStatus.ACTIVE.value, "activated_at": now}})
