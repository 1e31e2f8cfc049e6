"""The knowledge base in MongoDB: ``kb_categories``, ``kb_articles`` (with their search ``terms``,
a multikey index) and ``canned_replies`` (shared with ``MongoDirectory``, which reads title and
text; this store adds the variables and who changed it)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from hub.errors import ConcurrentUpdate
from hub.storage.database import Db

INDEXES: dict[str, list[IndexModel]] = {
    "kb_articles": [IndexModel([("terms", ASCENDING)]), IndexModel([("intents", ASCENDING)]),
                    IndexModel([("category", ASCENDING)])],
}
MAX_CANDIDATES = 500  # matches read per search before ranking
MAX_CANNED = 2_000


async def ensure_knowledge_indexes(db: Db) -> None:
    for collection, models in INDEXES.items():
        await db[collection].create_indexes(models)


class MongoKnowledgeStore:
    def __init__(self, db: Db) -> None:
        self._categories = db["kb_categories"]
        self._articles = db["kb_articles"]
        self._canned = db["canned_replies"]

    # -- categories --------------------------------------------------------------------------
    async def add_category(self, doc: Mapping[str, Any]) -> None:
        try:
            await self._categories.insert_one(dict(doc))
        except DuplicateKeyError:
            raise ConcurrentUpdate(f"category {doc['_id']} exists") from None

    async def categories(self) -> list[dict[str, Any]]:
        return [doc async for doc in self._categories.find({}).sort("_id", ASCENDING)]

    async def category_exists(self, category_id: str) -> bool:
        return await self._categories.count_documents({"_id": category_id}, limit=1) > 0

    # -- articles ----------------------------------------------------------------------------
    async def put_article(self, doc: Mapping[str, Any]) -> None:
        await self._articles.replace_one({"_id": doc["_id"]}, dict(doc), upsert=True)

    async def article(self, article_id: str) -> dict[str, Any] | None:
        return await self._articles.find_one({"_id": article_id})

    async def delete_article(self, article_id: str) -> bool:
        return (await self._articles.delete_one({"_id": article_id})).deleted_count == 1

    async def find_articles(self, terms: list[str] | None, category: str | None) -> list[dict[str, Any]]:
        query: dict[str, Any] = {}
        if terms:
            query["terms"] = {"$all": terms}
        if category:
            query["category"] = category
        cursor = self._articles.find(query, {"terms": 0}).sort("updated_at", -1).limit(MAX_CANDIDATES)
        return [doc async for doc in cursor]

    async def linked(self, intent: str) -> list[dict[str, Any]]:
        cursor = self._articles.find({"intents": intent}, {"terms": 0}).sort("_id", ASCENDING)
        return [doc async for doc in cursor]

    # -- canned replies ----------------------------------------------------------------------
    async def put_canned(self, doc: Mapping[str, Any]) -> None:
        await self._canned.replace_one({"_id": doc["_id"]}, dict(doc), upsert=True)

    async def canned(self, reply_id: str) -> dict[str, Any] | None:
        return await self._canned.find_one({"_id": reply_id})

    async def delete_canned(self, reply_id: str) -> bool:
        return (await self._canned.delete_one({"_id": reply_id})).deleted_count == 1

    async def all_canned(self) -> list[dict[str, Any]]:
        """Every canned reply (a few hundred at most), also those the directory wrote (``hub demo``:
        title and text only)."""
        cursor = self._canned.find({}).sort("title", ASCENDING).limit(MAX_CANNED)
        return [doc async for doc in cursor]
