"""What a contact has said and done across channels: its conversations and their messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from hub.domain.ids import Skill
from hub.domain.model import Message
from hub.domain.states import ConversationState
from hub.storage.database import Db
from hub.storage.messages import message_from_doc

MAX_SCOPE = 2000  # an agent's scope: contacts of the conversations they may view, most recent first


def visible_to(agent_id: str, skills: frozenset[Skill]) -> dict[str, Any]:
    """Conversations an agent may view (``ConversationService.may_view``) as a query."""
    return {"$or": [{"agent_id": agent_id},
                    {"state": ConversationState.QUEUED.value,
                     "skills": {"$not": {"$elemMatch": {"$nin": sorted(skills)}}}}]}


class MongoContactHistory:
    """Reads and re-points conversations and messages by contact. Safe to share between coroutines."""

    def __init__(self, db: Db) -> None:
        self._conversations = db["conversations"]
        self._messages = db["messages"]

    async def conversations_of(self, contact_ids: Sequence[str]) -> list[dict[str, Any]]:
        cursor = self._conversations.find({"contact_id": {"$in": list(contact_ids)}}).sort("created_at", 1)
        return await cursor.to_list(None)

    async def conversations_by_id(self, conversation_ids: Sequence[str]) -> list[dict[str, Any]]:
        return await self._conversations.find({"_id": {"$in": list(conversation_ids)}}).to_list(None)

    async def messages_before(self, conversation_ids: Sequence[str], before: tuple[datetime, str] | None,
                              limit: int) -> list[Message]:
        """The newest ``limit`` messages older than ``before``, oldest first (notes included)."""
        query: dict[str, Any] = {"conversation_id": {"$in": list(conversation_ids)}}
        if before is not None:
            at, message_id = before
            query["$or"] = [{"sent_at": {"$lt": at}}, {"sent_at": at, "_id": {"$lt": message_id}}]
        cursor = self._messages.find(query).sort([("sent_at", -1), ("_id", -1)]).limit(limit)
        newest_first = [message_from_doc(doc) async for doc in cursor]
        return newest_first[::-1]

    async def count_messages(self, conversation_ids: Sequence[str]) -> int:
        return await self._messages.count_documents({"conversation_id": {"$in": list(conversation_ids)}})

    async def repoint(self, from_contact: str, to_contact: str, contact_name: str) -> int:
        """Conversations of a merged contact now belong to its survivor; idempotent."""
        result = await self._conversations.update_many(
            {"contact_id": from_contact}, {"$set": {"contact_id": to_contact, "contact_name": contact_name}})
        return result.modified_count

    async def rename(self, contact_id: str, contact_name: str) -> None:
        await self._conversations.update_many({"contact_id": contact_id}, {"$set": {"contact_name": contact_name}})

    async def contacts_in_scope(self, agent_id: str, skills: frozenset[Skill]) -> list[str]:
        """Contacts of the conversations an agent may view (theirs, past and present, and the
        queued ones their skills qualify them for)."""
        cursor = self._conversations.find(visible_to(agent_id, skills), {"contact_id": 1})
        ids = [doc["contact_id"] async for doc in cursor.sort("updated_at", -1).limit(MAX_SCOPE)]
        return list(dict.fromkeys(ids))

    async def any_visible(self, contact_ids: Sequence[str], agent_id: str, skills: frozenset[Skill]) -> bool:
        query = {"contact_id": {"$in": list(contact_ids)}, **visible_to(agent_id, skills)}
        return await self._conversations.find_one(query, {"_id": 1}) is not None

    async def handled(self, contact_ids: Sequence[str], agent_id: str) -> bool:
        """Whether a conversation of one of ``contact_ids`` is or was assigned to ``agent_id``."""
        query = {"contact_id": {"$in": list(contact_ids)}, "agent_id": agent_id}
        return await self._conversations.find_one(query, {"_id": 1}) is not None
