"""Finding conversations in MongoDB: the search index (``conversation_search``: one document per
conversation with its ``terms``, a multikey index), the views' queries and labels.

Indexes: ``hub.storage.database.INDEXES`` (``conversation_search.terms``, ``conversations.labels``).
The index lives apart from ``conversations`` and ``messages``: SecantusDB maintains every index on
every update, and those two collections are written on the message path; this one is written only
by the ``search`` durable consumer (``hub.finding.SearchIndexer``), a few times per conversation.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from pymongo import ASCENDING, DESCENDING, ReplaceOne

from hub.domain.finding import MAX_LABELS, Filters
from hub.domain.states import OPEN_STATES, ConversationState
from hub.storage.database import Db, chunked
from hub.storage.inbox_lines import MongoInboxLines

MAX_MATCHES = 500  # conversations a search reads before the views' filters and visibility
MAX_TIMELINE = 2_000  # messages of one conversation indexed


class MongoConversationSearch:
    def __init__(self, db: Db) -> None:
        self._index = db["conversation_search"]
        self._conversations = db["conversations"]
        self._messages = db["messages"]
        self._contacts = db["contacts"]
        self._events = db["events"]
        self._lines = MongoInboxLines(db)

    # -- the index (the durable consumer's side) ---------------------------------------------
    async def material(self, conversation_id: str) -> tuple[list[str], str, list[str]] | None:
        """What one conversation is found by: its customer-visible message texts, its contact's
        name and identities; None for an unknown conversation."""
        doc = await self._conversations.find_one({"_id": conversation_id}, {"contact_id": 1, "contact_name": 1})
        if doc is None:
            return None
        cursor = self._messages.find({"conversation_id": conversation_id, "private": False},
                                     {"text": 1}).sort("sent_at", ASCENDING).limit(MAX_TIMELINE)
        texts = [m.get("text") or "" async for m in cursor]
        contact = await self._contacts.find_one({"_id": doc["contact_id"]}, {"display_name": 1, "identities": 1})
        name = (contact or {}).get("display_name") or doc.get("contact_name") or ""
        return texts, name, list((contact or {}).get("identities", []))

    async def materials(self, conversation_ids: Collection[str]) -> dict[str, tuple[list[str], str, list[str]]]:
        """``material`` of many conversations with one ``$in`` per collection (per chunk of
        ``IN_CHUNK``), not three reads per conversation; unknown conversations are left out."""
        found: dict[str, tuple[list[str], str, list[str]]] = {}
        for chunk in chunked(conversation_ids):
            docs = await self._conversations.find({"_id": {"$in": chunk}}, {"contact_id": 1, "contact_name": 1}
                                                  ).to_list(None)
            if not docs:
                continue
            texts: dict[str, list[str]] = {doc["_id"]: [] for doc in docs}
            cursor = self._messages.find({"conversation_id": {"$in": sorted(texts)}, "private": False},
                                         {"conversation_id": 1, "text": 1}).sort(
                [("conversation_id", ASCENDING), ("sent_at", ASCENDING)])
            async for message in cursor:
                held = texts[message["conversation_id"]]
                if len(held) < MAX_TIMELINE:
                    held.append(message.get("text") or "")
            contacts = {c["_id"]: c async for c in self._contacts.find(
                {"_id": {"$in": sorted({doc["contact_id"] for doc in docs})}}, {"display_name": 1, "identities": 1})}
            for doc in docs:
                contact = contacts.get(doc["contact_id"]) or {}
                name = contact.get("display_name") or doc.get("contact_name") or ""
                found[doc["_id"]] = (texts[doc["_id"]], name, list(contact.get("identities", [])))
        return found

    async def put_terms(self, conversation_id: str, terms: list[str], at: datetime) -> None:
        await self._index.replace_one({"_id": conversation_id}, {"_id": conversation_id, "terms": terms,
                                                                 "indexed_at": at}, upsert=True)

    async def put_many_terms(self, terms: Mapping[str, list[str]], at: datetime) -> None:
        """Every conversation's terms in one unordered bulk write."""
        if terms:
            await self._index.bulk_write([ReplaceOne({"_id": cid}, {"_id": cid, "terms": t, "indexed_at": at},
                                                     upsert=True) for cid, t in terms.items()], ordered=False)

    async def drop_index(self) -> None:
        await self._index.delete_many({})

    # -- reading -----------------------------------------------------------------------------
    async def matching(self, terms: Collection[str]) -> list[str]:
        """Ids of conversations holding every term (at most ``MAX_MATCHES``, latest indexed first)."""
        cursor = self._index.find({"terms": {"$all": sorted(terms)}}, {"_id": 1}).sort(
            "indexed_at", DESCENDING).limit(MAX_MATCHES)
        return [doc["_id"] async for doc in cursor]

    async def listed(self, filters: Filters, *, states: Collection[ConversationState],
                     agents: Collection[str] | None, ids: Collection[str] | None, limit: int) -> list[dict[str, Any]]:
        """Conversations of ``filters`` (queue, channel, label) in ``states``, held by one of
        ``agents`` (None: anyone's) and among ``ids`` (None: any), latest changed first, with their
        inbox lines."""
        query: dict[str, Any] = {"state": {"$in": sorted(s.value for s in states)}}
        if agents is not None:
            query["agent_id"] = {"$in": sorted(agents)}
        for field, value in (("queue", filters.queue), ("channel", filters.channel), ("labels", filters.label)):
            if value is not None:
                query[field] = value
        if ids is None:
            cursor = self._conversations.find(query).sort("updated_at", DESCENDING).limit(limit)
            return await self._lines.joined(await cursor.to_list(None))
        found: list[dict[str, Any]] = []
        for chunk in chunked(ids):  # SecantusDB's $in is quadratic in its list (database.IN_CHUNK)
            found += await self._conversations.find({**query, "_id": {"$in": chunk}}).to_list(None)
        found.sort(key=lambda d: d["updated_at"], reverse=True)
        return await self._lines.joined(found[:limit])

    async def served_by(self, agent_id: str, limit: int = 2_000) -> set[str]:
        """Conversations ever assigned to the agent (visibility's "served"), from the events."""
        cursor = self._events.find({"agent_id": agent_id, "type": "assigned"}, {"conversation_id": 1}).sort(
            "at", DESCENDING).limit(limit)
        return {doc["conversation_id"] async for doc in cursor}

    async def open_of_contact(self, contact_id: str) -> str | None:
        """The id of one open conversation of the contact, if any."""
        doc = await self._conversations.find_one(
            {"contact_id": contact_id, "state": {"$in": sorted(s.value for s in OPEN_STATES)}}, {"_id": 1})
        return doc["_id"] if doc else None

    # -- labels ------------------------------------------------------------------------------
    async def add_label(self, conversation_id: str, label: str) -> list[str] | None:
        """Add ``label`` (idempotent); None when the conversation holds ``MAX_LABELS`` others."""
        result = await self._conversations.update_one(
            {"_id": conversation_id, f"labels.{MAX_LABELS - 1}": {"$exists": False}},
            {"$addToSet": {"labels": label}})
        if result.matched_count == 0:
            doc = await self._conversations.find_one({"_id": conversation_id}, {"labels": 1})
            if doc is None or label not in doc.get("labels", []):
                return None
        return await self.labels(conversation_id)

    async def remove_label(self, conversation_id: str, label: str) -> list[str]:
        await self._conversations.update_one({"_id": conversation_id}, {"$pull": {"labels": label}})
        return await self.labels(conversation_id)

    async def labels(self, conversation_id: str) -> list[str]:
        doc: Mapping[str, Any] | None = await self._conversations.find_one({"_id": conversation_id}, {"labels": 1})
        return sorted((doc or {}).get("labels", []))

    async def all_labels(self, limit: int = 200) -> list[str]:
        """The labels in use (for the console's filter), sorted."""
        found: set[str] = set()
        async for doc in self._conversations.find({"labels": {"$exists": True}}, {"labels": 1}).limit(2_000):
            found.update(doc.get("labels", []))
        return sorted(found)[:limit]
