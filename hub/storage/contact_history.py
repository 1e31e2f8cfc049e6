"""What a contact has said and done across channels: its conversations and their messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hub.domain import visibility
from hub.domain.ids import Skill
from hub.domain.model import Message
from hub.domain.states import ConversationState
from hub.storage.database import Db
from hub.storage.inbox_lines import MongoInboxLines
from hub.storage.message_docs import message_from_doc

MAX_SCOPE = 2000  # an agent's scope: contacts of the conversations they may view, most recent first
HOLDING = sorted(s.value for s in visibility.HOLDING)
FINISHED = sorted(s.value for s in visibility.FINISHED)


def maybe_visible_to(agent_id: str, skills: frozenset[Skill], served: Sequence[str]) -> dict[str, Any]:
    """A query for the conversations an agent may see (``hub.domain.visibility``), at most: held by
    her now, queued for her skills, or finished and hers (last or ``served``). A pre-filter only:
    callers apply ``conversation_sight`` to what it finds."""
    return {"$or": [{"agent_id": agent_id, "state": {"$in": HOLDING + FINISHED}},
                    {"state": ConversationState.QUEUED.value,
                     "skills": {"$not": {"$elemMatch": {"$nin": sorted(skills)}}}},
                    {"_id": {"$in": list(served)}, "state": {"$in": FINISHED}}]}


class MongoContactHistory:
    """Reads and re-points conversations and messages by contact. Safe to share between coroutines."""

    def __init__(self, db: Db) -> None:
        self._conversations = db["conversations"]
        self._messages = db["messages"]
        self._events = db["events"]
        self._lines = MongoInboxLines(db)

    async def conversations_of(self, contact_ids: Sequence[str]) -> list[dict[str, Any]]:
        cursor = self._conversations.find({"contact_id": {"$in": list(contact_ids)}}).sort("created_at", 1)
        return await cursor.to_list(None)

    async def conversations_by_id(self, conversation_ids: Sequence[str]) -> list[dict[str, Any]]:
        return await self._conversations.find({"_id": {"$in": list(conversation_ids)}}).to_list(None)

    async def with_line(self, conversation: dict[str, Any]) -> dict[str, Any]:
        """A conversation document of these with its inbox line (preview, unread; ADR 0067)."""
        return await self._lines.joined_one(conversation)

    async def messages_before(self, full: Sequence[str], public: Sequence[str], before: tuple[datetime, str] | None,
                              limit: int) -> list[Message]:
        """The newest ``limit`` messages older than ``before``, oldest first: every message of the
        ``full`` conversations, and those that are not private notes of the ``public`` ones."""
        query: dict[str, Any] = {"$and": [_of_conversations(full, public)]}
        if before is not None:
            at, message_id = before
            query["$and"].append({"$or": [{"sent_at": {"$lt": at}}, {"sent_at": at, "_id": {"$lt": message_id}}]})
        cursor = self._messages.find(query).sort([("sent_at", -1), ("_id", -1)]).limit(limit)
        newest_first = [message_from_doc(doc) async for doc in cursor]
        return newest_first[::-1]

    async def count_messages(self, full: Sequence[str], public: Sequence[str] = ()) -> int:
        """How many messages ``messages_before`` could show of these conversations."""
        return await self._messages.count_documents(_of_conversations(full, public))

    async def repoint(self, from_contact: str, to_contact: str, contact_name: str) -> int:
        """Conversations of a merged contact now belong to its survivor; idempotent."""
        result = await self._conversations.update_many(
            {"contact_id": from_contact}, {"$set": {"contact_id": to_contact, "contact_name": contact_name}})
        return result.modified_count

    async def rename(self, contact_id: str, contact_name: str) -> None:
        await self._conversations.update_many({"contact_id": contact_id}, {"$set": {"contact_name": contact_name}})

    async def served_among(self, conversation_ids: Sequence[str], agent_id: str) -> set[str]:
        """Those of ``conversation_ids`` that were assigned to ``agent_id`` at some point."""
        if not conversation_ids:
            return set()
        query = {"conversation_id": {"$in": list(conversation_ids)}, "type": "assigned", "agent_id": agent_id}
        return {doc["conversation_id"] async for doc in self._events.find(query, {"conversation_id": 1})}

    async def scope_candidates(self, agent_id: str, skills: frozenset[Skill]) -> list[dict[str, Any]]:
        """Conversations (state, agent, skills, contact) an agent may see at most, most recent first,
        with ``served_by_viewer`` set; the caller applies the visibility rule."""
        assigned = self._events.find({"type": "assigned", "agent_id": agent_id}, {"conversation_id": 1})
        served = list(dict.fromkeys([doc["conversation_id"]
                                     async for doc in assigned.sort("at", -1).limit(MAX_SCOPE)]))
        fields = {"contact_id": 1, "state": 1, "agent_id": 1, "skills": 1}
        cursor = self._conversations.find(maybe_visible_to(agent_id, skills, served), fields)
        docs = await cursor.sort("updated_at", -1).limit(MAX_SCOPE).to_list(None)
        mine = set(served)
        return [{**doc, "served_by_viewer": doc["_id"] in mine} for doc in docs]


def _of_conversations(full: Sequence[str], public: Sequence[str]) -> dict[str, Any]:
    return {"$or": [{"conversation_id": {"$in": list(full)}},
                    {"conversation_id": {"$in": list(public)}, "private": {"$ne": True}}]}
