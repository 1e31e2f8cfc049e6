"""Conversations and their immutable event table in MongoDB.

A transition first inserts its event under the unique key ``(conversation_id, version)`` — the
commit point that makes two concurrent transitions of the same version impossible — and then
moves the conversation document (a projection of its events) with a version check.
``reconcile`` replays events whose projection was lost to a crash between the two writes.

The documents it returns carry their inbox line (``hub.storage.inbox_lines``: preview, unread and
the receipts, kept in a document of their own since ADR 0067), joined on reading.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from pymongo.errors import DuplicateKeyError

from hub.domain.events import EventType, check_event
from hub.domain.ids import AgentId, ContactId, ConversationId, QueueId, Skill
from hub.domain.model import Conversation, ConversationEvent
from hub.domain.states import OPEN_STATES, ConversationState
from hub.errors import ConcurrentUpdate, NotFound
from hub.storage.database import Db
from hub.storage.eventlog import MongoEventSequence
from hub.storage.inbox_lines import MongoInboxLines

logger = logging.getLogger(__name__)

# Fields a transition may change, besides state and version.
MUTABLE_FIELDS = frozenset({"queue", "priority", "skills", "agent_id", "queued_at", "wrap_up_code", "handover",
                            "transfer",  # the last transfer: who handed it on, to whom (hub/conversations/handing.py)
                            "snoozed_until", "snoozed_at"})  # a snooze (hub/snoozes.py)
RECENT_INTENTS = 5
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def conversation_from_doc(doc: Mapping[str, Any]) -> Conversation:
    return Conversation(
        id=ConversationId(doc["_id"]),
        contact_id=ContactId(doc["contact_id"]),
        channel=doc["channel"],
        state=ConversationState(doc["state"]),
        version=int(doc["version"]),
        queue=QueueId(doc["queue"]) if doc.get("queue") else None,
        priority=int(doc.get("priority", 0)),
        skills=frozenset(Skill(s) for s in doc.get("skills", ())),
        agent_id=AgentId(doc["agent_id"]) if doc.get("agent_id") else None,
        created_at=doc["created_at"],
        updated_at=doc["updated_at"],
        queued_at=doc.get("queued_at"),
        wrap_up_code=doc.get("wrap_up_code"),
        language=doc.get("language", "en"),
        multichannel=bool(doc.get("multichannel", False)),
        snoozed_until=doc.get("snoozed_until"),
    )


def storable(changes: Mapping[str, Any]) -> dict[str, Any]:
    """Sets become sorted lists: BSON has no set type, and sorted keeps documents comparable."""
    return {k: sorted(v) if isinstance(v, (set, frozenset)) else v for k, v in changes.items()}


def event_to_doc(event: ConversationEvent, changes: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "_id": f"{event.conversation_id}:{event.version}",
        "conversation_id": event.conversation_id,
        "version": event.version,
        "type": event.type.value,
        "from_state": event.from_state.value if event.from_state else None,
        "to_state": event.to_state.value,
        "at": event.at,
        "channel": event.channel,
        "queue": event.queue,
        "agent_id": event.agent_id,
        "actor": event.actor,
        "detail": dict(event.detail),
        "changes": storable(changes),
    }


class MongoConversationStore:
    """Conversations (documents) and events (append-only). Safe to share between coroutines."""

    def __init__(self, db: Db) -> None:
        self._conversations = db["conversations"]
        self._events = db["events"]
        self._contacts = db["contacts"]
        self._sequence = MongoEventSequence(db)  # every event gets ``seq`` (durable consumers' order)
        self._lines = MongoInboxLines(db)

    async def create(self, conversation: Conversation, *, contact_name: str, actor: str) -> Conversation:
        """Store a new conversation in state ``new`` with its ``created`` event (version 0)."""
        doc = {
            "_id": conversation.id, "contact_id": conversation.contact_id, "contact_name": contact_name,
            "channel": conversation.channel, "state": conversation.state.value, "version": 0,
            "queue": conversation.queue, "priority": conversation.priority,
            "skills": sorted(conversation.skills), "agent_id": None,
            "created_at": conversation.created_at, "updated_at": conversation.updated_at,
            "language": conversation.language, "preview": "", "unread": 0,
        }
        event = ConversationEvent(
            conversation_id=conversation.id, version=0, type=EventType.CREATED, from_state=None,
            to_state=conversation.state, at=conversation.created_at, channel=conversation.channel,
            queue=conversation.queue, actor=actor,
        )
        await self._sequence.insert(event_to_doc(event, {}))
        await self._conversations.insert_one(doc)
        return conversation

    async def get(self, conversation_id: str) -> Conversation:
        doc = await self._conversations.find_one({"_id": conversation_id})
        if doc is None:
            raise NotFound(f"no conversation {conversation_id}")
        return conversation_from_doc(doc)

    async def get_doc(self, conversation_id: str, *, with_line: bool = True) -> dict[str, Any]:
        """The conversation's document, with its inbox line unless ``with_line`` is False (one read less)."""
        doc = await self._conversations.find_one({"_id": conversation_id})
        if doc is None:
            raise NotFound(f"no conversation {conversation_id}")
        return await self._lines.joined_one(doc) if with_line else doc

    async def transition(
        self,
        conversation: Conversation,
        target: ConversationState,
        *,
        event_type: EventType,
        at: datetime,
        actor: str,
        changes: Mapping[str, Any] | None = None,
        detail: Mapping[str, str] | None = None,
    ) -> dict[str, Any]:
        """Move ``conversation`` (as last read) to ``target``; returns the stored document after it.

        Raises:
            IllegalTransition: the state machine has no such edge, or ``event_type`` may not label it
                (``hub.domain.events.EDGES``).
            ConcurrentUpdate: another writer moved the conversation since it was read.
        """
        event_type = check_event(event_type, conversation.state, target)
        changes = dict(changes or {})
        if conversation.snoozed_until is not None and event_type is not EventType.SNOOZED:
            changes.setdefault("snoozed_until", None)  # any other move ends a snooze (ADR 0049)
        unknown = set(changes) - MUTABLE_FIELDS
        if unknown:
            raise ValueError(f"transition cannot change {sorted(unknown)}")
        version = conversation.version + 1
        agent_id = changes.get("agent_id", conversation.agent_id)
        event = ConversationEvent(
            conversation_id=conversation.id, version=version, type=event_type,
            from_state=conversation.state, to_state=target, at=at, channel=conversation.channel,
            queue=changes.get("queue", conversation.queue), agent_id=agent_id, actor=actor,
            detail=detail or {},
        )
        try:
            await self._sequence.insert(event_to_doc(event, changes))
        except DuplicateKeyError as err:
            # Either another writer won, or a crash left its event without the projection: repair
            # the latter so the caller's reload-and-retry sees the true state.
            await self._replay(conversation.id, conversation.version)
            raise ConcurrentUpdate(f"conversation {conversation.id} changed concurrently") from err
        await self._apply(conversation.id, conversation.version, target, at, changes)
        return await self.get_doc(conversation.id)

    async def _apply(
        self, conversation_id: str, from_version: int, target: ConversationState, at: datetime,
        changes: Mapping[str, Any],
    ) -> None:
        fields = storable(changes)
        await self._conversations.update_one(
            {"_id": conversation_id, "version": from_version},
            {"$set": {"state": target.value, "version": from_version + 1, "updated_at": at, **fields}},
        )

    async def reconcile(self) -> int:
        """Replay events newer than their conversation's projection; returns how many were applied."""
        applied = 0
        async for conv in self._conversations.find({"state": {"$in": [s.value for s in OPEN_STATES]}},
                                                   {"version": 1}):
            applied += await self._replay(conv["_id"], conv["version"])
        if applied:
            logger.warning("storage.reconcile.applied events=%d", applied)
        return applied

    async def _replay(self, conversation_id: str, version: int) -> int:
        cursor = self._events.find({"conversation_id": conversation_id, "version": {"$gt": version}})
        applied = 0
        async for event in cursor.sort("version", 1):
            await self._apply(conversation_id, event["version"] - 1, ConversationState(event["to_state"]),
                              event["at"], event.get("changes", {}))
            applied += 1
        return applied

    async def events_since(self, since: datetime, limit: int = 500_000) -> list[dict[str, Any]]:
        """Events at or after ``since`` (the KPI input); the ``at`` index serves the range."""
        cursor = self._events.find({"at": {"$gte": since}}, {"changes": 0}).sort("at", 1).limit(limit)
        return await cursor.to_list(None)

    async def events_of(self, conversation_id: str) -> list[dict[str, Any]]:
        return await self._events.find({"conversation_id": conversation_id}).sort("version", 1).to_list(None)

    async def held_by(self, agent_id: str, states: frozenset[ConversationState],
                      limit: int = 200) -> list[dict[str, Any]]:
        """The agent's conversations in one of ``states``, the latest changed first."""
        query = {"agent_id": agent_id, "state": {"$in": sorted(s.value for s in states)}}
        return await self._newest_first(query, limit)

    async def queued_within(self, skills: frozenset[str] | None, limit: int = 200) -> list[dict[str, Any]]:
        """Queued conversations that need no skill outside ``skills`` (None: all of them), the
        latest changed first."""
        query: dict[str, Any] = {"state": ConversationState.QUEUED.value}
        if skills is not None:  # no required skill that is not among ``skills``
            query["skills"] = {"$not": {"$elemMatch": {"$nin": sorted(skills)}}}
        return await self._newest_first(query, limit)

    async def _newest_first(self, query: Mapping[str, Any], limit: int) -> list[dict[str, Any]]:
        cursor = self._conversations.find(dict(query)).sort("updated_at", -1).limit(limit)
        return await self._lines.joined(await cursor.to_list(None))

    async def in_states(self, states: frozenset[ConversationState]) -> list[Conversation]:
        cursor = self._conversations.find({"state": {"$in": [s.value for s in states]}})
        return [conversation_from_doc(doc) async for doc in cursor]

    async def snoozed(self, limit: int = 1000) -> list[dict[str, Any]]:
        """Snoozed conversations (``hub.snoozes``), the soonest due first: the due time and the
        customer's last message time (from the inbox lines), which decide when each wakes."""
        cursor = self._conversations.find(
            {"snoozed_until": {"$gte": EPOCH}, "state": ConversationState.ASSIGNED.value},
            {"snoozed_until": 1, "snoozed_at": 1, "last_customer_at": 1, "agent_id": 1})
        return await self._lines.joined(await cursor.sort("snoozed_until", 1).limit(limit).to_list(None),
                                        ("last_customer_at",))

    async def with_bot_since(self, before: datetime, limit: int = 500) -> list[dict[str, Any]]:
        """Conversations the bot holds unchanged since before ``before`` (``hub.bot_idle``), the
        oldest first, with their last message time (from the inbox lines): the candidates for being
        resolved as contained once nobody wrote for a while."""
        cursor = self._conversations.find(
            {"state": ConversationState.BOT.value, "updated_at": {"$lt": before}},
            {"channel": 1, "updated_at": 1, "created_at": 1, "last_message_at": 1})
        return await self._lines.joined(await cursor.sort("updated_at", 1).limit(limit).to_list(None),
                                        ("last_message_at",))

    async def queued_since(self, before: datetime, limit: int) -> list[Conversation]:
        """Conversations waiting in a queue since before ``before`` (oldest first)."""
        cursor = self._conversations.find({"state": ConversationState.QUEUED.value, "updated_at": {"$lt": before}})
        return [conversation_from_doc(doc) async for doc in cursor.sort("updated_at", 1).limit(limit)]

    async def remember_bot_turn(self, conversation_id: str, intent: str | None, confidence: float,
                                fallbacks: int) -> None:
        """The bot's memory on the conversation: last intents and consecutive fallbacks."""
        await self._conversations.update_one({"_id": conversation_id}, {
            "$set": {"bot.fallbacks": fallbacks},
            "$push": {"bot.intents": {"$each": [{"intent": intent, "confidence": confidence}],
                                      "$slice": -RECENT_INTENTS}}})

    async def mark_multichannel(self, conversation_id: str) -> None:
        """The customer wrote from another channel than the one the conversation started on:
        replies must then look up where the customer last wrote (idempotent)."""
        await self._conversations.update_one({"_id": conversation_id}, {"$set": {"multichannel": True}})

    async def bot_memory(self, conversation_id: str) -> dict[str, Any]:
        """The bot's memory plus the conversation's current ``state`` (one read per turn)."""
        doc = await self._conversations.find_one({"_id": conversation_id}, {"bot": 1, "state": 1})
        return {**((doc or {}).get("bot") or {}), "state": (doc or {}).get("state")}
